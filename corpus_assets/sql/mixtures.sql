-- Derived views over the `mixtures` table view (created after it, when the table exists).

-- view: mixture_summary
-- Per mixture, stage and source: rows (document occurrences), distinct documents, tokens, the share of
-- the stage's tokens, and repeats. Target shares, input versions and shortfalls are in the manifest of
-- each build: <warehouse>/_mixtures/<mixture>/manifest-v<version>.json. An earlier build:
--   corpus sql --version mixtures=3 "SELECT * FROM mixture_summary WHERE mixture = 'web-en-zh-v1'"
CREATE OR REPLACE VIEW mixture_summary AS
SELECT mixture, any_value(spec_hash) AS spec_hash, stage, source, bool_or(synthetic) AS synthetic,
       count(*) AS rows, count(DISTINCT doc_id) AS documents, sum(n_tokens)::BIGINT AS tokens,
       sum(n_tokens) / sum(sum(n_tokens)) OVER (PARTITION BY mixture, stage) AS share,
       count(*) FILTER (WHERE copy > 0) AS repeated_rows, max(copy)::BIGINT + 1 AS copies
FROM mixtures
GROUP BY mixture, stage, source
ORDER BY mixture, stage, source;
