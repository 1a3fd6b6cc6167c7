-- Derived views over the table views of views.sql (created after them, when their tables exist).

-- view: funnel
-- Documents per crawl, language and outcome: 'kept', or each drop reason (a document dropped for
-- three reasons counts once under each). "Why was this page dropped?" is
--   SELECT url, drop_reasons, filter_config_hash FROM decisions WHERE url = '...';
CREATE OR REPLACE VIEW funnel AS
SELECT crawl, lang, reason, count(*) AS documents
FROM (
    SELECT crawl, lang, 'kept' AS reason FROM decisions WHERE keep
    UNION ALL
    SELECT crawl, lang, unnest(drop_reasons) AS reason FROM decisions WHERE NOT keep
)
GROUP BY crawl, lang, reason
ORDER BY crawl, lang, documents DESC, reason;
