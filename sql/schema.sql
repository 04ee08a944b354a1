-- Star schema of the indicator warehouse. Loaded into a fresh file on every build (load.py), so
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
    org_unit_key    VARCHAR PRIMARY KEY,   -- district_code || '/' || unit name
    district_code   VARCHAR NOT NULL REFERENCES dim_district (district_code),
    org_unit        VARCHAR NOT NULL       -- a unit below the council, e.g. Försörjningsstödsenheten
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
    org_unit_key    VARCHAR REFERENCES dim_org_unit (org_unit_key),
    period_key      VARCHAR NOT NULL REFERENCES dim_period (period_key),
    metadata_source VARCHAR                -- where district/type/year came from: cover, text, manifest
);

CREATE TABLE dim_indicator (
    indicator_key   VARCHAR PRIMARY KEY,   -- md5 of the canonical name, stable across builds
    indicator       VARCHAR NOT NULL,      -- canonical name
    unit            VARCHAR,               -- most common unit of its rows
    by_gender       BOOLEAN NOT NULL       -- some table marks it with ♀ or reports men/women
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
    unit                  VARCHAR,
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
    previous_label        VARCHAR,       -- 'VB 2013'
    comment               VARCHAR,
    source_page           INTEGER,
    source_line           INTEGER NOT NULL,
    quality_flag          VARCHAR,
    raw_text              VARCHAR NOT NULL,
    PRIMARY KEY (report_key, row_no)
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
CREATE TABLE build_summary (
    metric  VARCHAR PRIMARY KEY,
    value   BIGINT NOT NULL
);
