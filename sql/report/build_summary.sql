select metric, value from build_summary order by metric;
