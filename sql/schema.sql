-- Star schema of the indicator warehouse. Loaded into a fresh file on every build (pipeline/warehouse/load.py), so
-- plain CREATE TABLE is enough: the previous warehouse is replaced whole, never altered.

CREATE TABLE dim_district (
    district_code   VARCHAR PRIMARY KEY,   -- stable key: 'hasselby-vallingby'
    municipality    VARCHAR NOT NULL,      -- 'Stockholm'; other publishers add their own rows
    district        VARCHAR NOT NULL,      -- name as the city spells it
    valid_from      INTEGER NOT NULL,      -- first year the council existed
    valid_to        INTEGER,               -- last year, NULL while it exists
    replaced_by     VARCHAR                -- district_code of the council that took over
);

CREATE TABLE dim_org_unit (
    org_unit_key    VARCHAR PRIMARY KEY,   -- district_code || '/' || unit name; district_code || '/' for the council
    district_code   VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit        VARCHAR                -- a unit below the council, e.g. Försörjningsstödsenheten; NULL: the council
);

CREATE TABLE dim_period (
    period_key      VARCHAR PRIMARY KEY,   -- '2014-T1', '2013-VB', '2020-VP'
    report_type     VARCHAR NOT NULL,
    year            INTEGER NOT NULL,
    tertial         INTEGER,
    label           VARCHAR NOT NULL,      -- 'Tertialrapport 1 2014'
    start_date      DATE NOT NULL,
    end_date        DATE NOT NULL
);

CREATE TABLE dim_report (
    report_key      VARCHAR PRIMARY KEY,   -- content hash (sha256) of the file
    report_file     VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL,
    source_kind     VARCHAR NOT NULL,      -- 'pdf' or 'txt'
    report_type     VARCHAR NOT NULL,
    year            INTEGER NOT NULL,
    tertial         INTEGER,
    district_code   VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit_key    VARCHAR NOT NULL REFERENCES dim_org_unit (org_unit_key),
    period_key      VARCHAR NOT NULL REFERENCES dim_period (period_key),
    metadata_source VARCHAR                -- where district/type/year came from: cover, text, manifest
);

CREATE TABLE dim_indicator (
    indicator_key   VARCHAR PRIMARY KEY,   -- from the catalog (pipeline/common/data/indicators.csv), or new-<hash>
    indicator       VARCHAR NOT NULL,      -- canonical name
    unit            VARCHAR,               -- most common unit of its rows
    by_gender       BOOLEAN NOT NULL,      -- some table marks it with ♀ or reports men/women
    better          VARCHAR,               -- 'higher' | 'lower' | NULL where the catalog does not say
    catalog_status  VARCHAR NOT NULL,      -- 'curated' | 'unmatched' (listed by `indicators catalog --unmatched`)
    proposed_key    VARCHAR,               -- for an unmatched name: the closest catalog indicator
    proposed_score  DOUBLE,                -- its similarity, 0-100
    name_variants   INTEGER NOT NULL       -- distinct printed names loaded for it
);

-- Kolada-style gender codes, so queries can filter or pivot on gender.
CREATE TABLE dim_gender (
    gender_code     VARCHAR PRIMARY KEY,   -- T total, K women/girls, M men/boys
    label           VARCHAR NOT NULL
);

CREATE TABLE dim_goal (
    report_key      VARCHAR NOT NULL REFERENCES dim_report (report_key),
    goal_ref        VARCHAR NOT NULL,      -- '1.2', '1.2.N1' (unnumbered council goal 1 under 1.2)
    goal_kind       VARCHAR NOT NULL,      -- inriktningsmal | kf_goal | namndmal | atagande
    goal_text       VARCHAR NOT NULL,
    parent_ref      VARCHAR,
    assessment      VARCHAR,               -- helt | delvis | inte (Uppfylls ...), NULL if none printed
    source_page     INTEGER,
    source_line     INTEGER,
    PRIMARY KEY (report_key, goal_ref)
);

-- Grain: one indicator row of one report.
CREATE TABLE fact_indicator_value (
    report_key            VARCHAR NOT NULL REFERENCES dim_report (report_key),
    row_no                INTEGER NOT NULL,
    indicator_key         VARCHAR NOT NULL REFERENCES dim_indicator (indicator_key),
    district_code         VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit_key          VARCHAR REFERENCES dim_org_unit (org_unit_key),
    period_key            VARCHAR NOT NULL REFERENCES dim_period (period_key),
    table_no              INTEGER NOT NULL,
    goal_ref              VARCHAR,
    indicator_as_printed  VARCHAR NOT NULL,
    unit                  VARCHAR,       -- normalised ('st', '%', 'kWh/kvm'); see sql/comments.sql
    unit_as_printed       VARCHAR,       -- the unit after the numbers as the report printed it
    outcome               DOUBLE,
    outcome_men           DOUBLE,
    outcome_women         DOUBLE,
    previous_outcome      DOUBLE,
    forecast              DOUBLE,
    target                DOUBLE,
    city_target           DOUBLE,
    outcome_text          VARCHAR,       -- each measure's cell as printed
    outcome_men_text      VARCHAR,
    outcome_women_text    VARCHAR,
    previous_outcome_text VARCHAR,
    forecast_text         VARCHAR,
    target_text           VARCHAR,
    city_target_text      VARCHAR,
    period                VARCHAR,       -- the row's Period / Periodicitet cell as printed
    period_kind           VARCHAR,       -- what the Period cell means: tertial | half_year | year | frequency | unknown
    period_start          DATE,          -- the span the outcome refers to ('Tertial 1 2014': 2014-01-01 ..
    period_end            DATE,          --   2014-04-30); NULL for plans and unreadable cells
    frequency             VARCHAR,       -- plans: how often it is measured (yearly, tertial, half-yearly)
    previous_label        VARCHAR,       -- 'VB 2013'
    previous_year         INTEGER,       -- 2013: the year whose annual outcome previous_outcome is
    comment               VARCHAR,
    source_page           INTEGER,
    source_line           INTEGER NOT NULL,
    quality_flag          VARCHAR,
    raw_text              VARCHAR NOT NULL,
    PRIMARY KEY (report_key, row_no)
);

-- Long form of the facts: one value per measure and gender, with the period the value refers to.
-- previous_outcome becomes an outcome of the previous year (value_source 'previous_year_column').
CREATE TABLE fact_observation (
    report_key      VARCHAR NOT NULL REFERENCES dim_report (report_key),
    row_no          INTEGER NOT NULL,
    indicator_key   VARCHAR NOT NULL REFERENCES dim_indicator (indicator_key),
    district_code   VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit_key    VARCHAR REFERENCES dim_org_unit (org_unit_key),
    gender_code     VARCHAR NOT NULL REFERENCES dim_gender (gender_code),
    measure         VARCHAR NOT NULL,      -- outcome | forecast | target | city_target
    value           DOUBLE NOT NULL,
    unit            VARCHAR,
    ref_start       DATE NOT NULL,         -- the period the value is about
    ref_end         DATE NOT NULL,
    value_source    VARCHAR NOT NULL,      -- 'reported' | 'previous_year_column'
    quality_flag    VARCHAR,
    PRIMARY KEY (report_key, row_no, gender_code, measure, value_source)
);

-- Goal assessments ("Uppfylls helt / delvis / inte") as facts, one per goal of a report.
CREATE TABLE fact_goal_assessment (
    report_key      VARCHAR NOT NULL REFERENCES dim_report (report_key),
    goal_ref        VARCHAR NOT NULL,
    district_code   VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit_key    VARCHAR REFERENCES dim_org_unit (org_unit_key),
    period_key      VARCHAR NOT NULL REFERENCES dim_period (period_key),
    assessment      VARCHAR NOT NULL,      -- helt | delvis | inte
    PRIMARY KEY (report_key, goal_ref)
);

-- Rows that failed a validation expectation: kept for inspection, not loaded as facts.
CREATE TABLE quarantine (
    report_file           VARCHAR NOT NULL,
    row_no                INTEGER NOT NULL,
    indicator_as_printed  VARCHAR,
    reason                VARCHAR NOT NULL,
    source_page           INTEGER,
    source_line           INTEGER,
    raw_text              VARCHAR
);

-- Files (or parts of files) that could not be used, with the stage and a one-line reason.
CREATE TABLE load_errors (
    file    VARCHAR NOT NULL,
    stage   VARCHAR NOT NULL,
    reason  VARCHAR NOT NULL
);

-- One row per figure of the build summary ('reports_loaded', 'rows_loaded', ...).
-- What the build was made from: `inputs` is a fingerprint of the report files, manifest, code and settings;
-- a build with the same fingerprint leaves this warehouse in place ("up to date").
CREATE TABLE build_state (
    name    VARCHAR PRIMARY KEY,
    value   VARCHAR NOT NULL
);

CREATE TABLE build_summary (
    metric  VARCHAR PRIMARY KEY,
    value   BIGINT NOT NULL
);

-- One row per expectation of every Great Expectations suite the build ran (pipeline/warehouse/gates.py):
-- indicator_facts on each report before the load, the table suites on this file before the swap.
CREATE TABLE validation_results (
    run_id            VARCHAR,               -- the Dagster run that built this file
    run_at            TIMESTAMP,             -- when the suites ran (UTC)
    suite             VARCHAR NOT NULL,      -- expectations/<suite>.json
    expectation       VARCHAR NOT NULL,      -- the expectation type, e.g. expect_column_values_to_be_between
    column_name       VARCHAR,
    detail            VARCHAR NOT NULL,      -- the expectation with its arguments
    success           BOOLEAN NOT NULL,
    blocking          BOOLEAN NOT NULL,      -- a failure keeps the previous warehouse in place
    unexpected_count  BIGINT NOT NULL,
    element_count     BIGINT NOT NULL,
    observed_value    VARCHAR,               -- table-level expectations: what was seen
    unexpected_sample VARCHAR,               -- JSON: keys or values of some unexpected rows
    why               VARCHAR                -- what a failure means, from the suite
);

-- Each report's share of the outcomes of the suites over a report's own rows (fact_indicator_value,
-- dim_goal): a build that loads a few reports into a copy of this file checks their rows only, and
-- adds the other reports' shares to give validation_results the totals of a run over every row.
CREATE TABLE validation_shares (
    report_key  VARCHAR NOT NULL,
    suite       VARCHAR NOT NULL,
    outcomes    VARCHAR NOT NULL,  -- JSON: the report's share of each expectation (pipeline/warehouse/validate.py)
    PRIMARY KEY (report_key, suite)
);
