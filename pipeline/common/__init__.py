"""Plain data below every stage: the records passed between stages, reference data (districts, units), fault points."""
