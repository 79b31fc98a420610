-- Service catalog (事项管理): regions, departments, themes, catalog and implementation items,
-- versions with history, bundles (一件事).

CREATE TABLE regions (
    code TEXT PRIMARY KEY,            -- GB/T 2260 division code (6 digits; 9 for townships)
    name TEXT NOT NULL,
    name_en TEXT,
    level TEXT NOT NULL,              -- province | city | county | township
    parent_code TEXT REFERENCES regions(code),
    sort BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE departments (
    credit_code TEXT PRIMARY KEY,     -- 统一社会信用代码
    name TEXT NOT NULL,
    name_en TEXT,
    region_code TEXT NOT NULL REFERENCES regions(code),
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    sort BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX departments_region ON departments(region_code);

CREATE TABLE themes (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    audience TEXT NOT NULL,           -- person | business
    description TEXT NOT NULL DEFAULT '',
    sort BIGINT NOT NULL DEFAULT 0
);

-- 目录清单: shared by all levels.
CREATE TABLE catalog_items (
    basic_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    item_type TEXT NOT NULL,
    legal_basis TEXT NOT NULL DEFAULT ''
);

-- 实施清单: one row per implementation item; the elements live in item_versions.doc (JSON).
-- Columns here are denormalised from the published version (or the latest if never published)
-- for listing and filtering.
CREATE TABLE items (
    impl_code TEXT PRIMARY KEY,
    basic_code TEXT NOT NULL REFERENCES catalog_items(basic_code),
    status TEXT NOT NULL,             -- draft | published | suspended | cancelled
    latest_version BIGINT NOT NULL,
    published_version BIGINT,
    name TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES departments(credit_code),
    region_code TEXT NOT NULL REFERENCES regions(code),
    item_type TEXT NOT NULL,
    audience TEXT NOT NULL,           -- person | business | both
    promised_days BIGINT NOT NULL DEFAULT 0,
    visits BIGINT NOT NULL DEFAULT 0,
    online_depth BIGINT NOT NULL DEFAULT 1,
    views BIGINT NOT NULL DEFAULT 0,  -- popularity for "hot items" and ranking
    updated_at TEXT NOT NULL
);
CREATE INDEX items_department ON items(department_code);
CREATE INDEX items_region ON items(region_code);
CREATE INDEX items_status ON items(status);
CREATE INDEX items_updated ON items(updated_at);

CREATE TABLE item_versions (
    impl_code TEXT NOT NULL REFERENCES items(impl_code),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,             -- draft | published | superseded
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    published_at TEXT,
    PRIMARY KEY (impl_code, version)
);

CREATE TABLE item_history (
    id {{AUTO_ID}},
    impl_code TEXT NOT NULL REFERENCES items(impl_code),
    version BIGINT NOT NULL,
    action TEXT NOT NULL,             -- create | edit | publish | suspend | resume | cancel | import
    actor TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX item_history_item ON item_history(impl_code);

CREATE TABLE item_themes (
    impl_code TEXT NOT NULL REFERENCES items(impl_code),
    theme_slug TEXT NOT NULL REFERENCES themes(slug),
    PRIMARY KEY (impl_code, theme_slug)
);
CREATE INDEX item_themes_theme ON item_themes(theme_slug);

CREATE TABLE bundles (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    audience TEXT NOT NULL,
    lead_department TEXT NOT NULL REFERENCES departments(credit_code),
    description TEXT NOT NULL DEFAULT '',
    promised_days BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'published',
    sort BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE bundle_items (
    bundle_code TEXT NOT NULL REFERENCES bundles(code),
    impl_code TEXT NOT NULL REFERENCES items(impl_code),
    sort BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bundle_code, impl_code)
);

-- Key/value facts about this installation (e.g. whether the demo province was loaded).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
