-- Queries behind the `crawl_summary` asset (run over the views of views.sql). Blocks start with `-- query: NAME`.

-- query: by_crawl
-- Documents, kept by the filters and published in the corpus, per crawl.
SELECT d.crawl,
       count(*) AS documents,
       count(*) FILTER (WHERE d.keep) AS kept,
       count(c.doc_id) AS in_corpus,
       round(count(*) FILTER (WHERE d.keep) / count(*), 4) AS kept_share,
       round(count(c.doc_id) / count(*), 4) AS corpus_share
FROM decisions d LEFT JOIN corpus c USING (doc_id)
GROUP BY d.crawl ORDER BY d.crawl;

-- query: by_language
-- The same per crawl and language.
SELECT d.crawl, d.lang,
       count(*) AS documents,
       count(*) FILTER (WHERE d.keep) AS kept,
       count(c.doc_id) AS in_corpus
FROM decisions d LEFT JOIN corpus c USING (doc_id)
GROUP BY d.crawl, d.lang ORDER BY d.crawl, documents DESC, d.lang;

-- query: by_drop_reason
-- Dropped documents per crawl and reason (a document counts under each of its reasons).
SELECT crawl, reason, sum(documents)::BIGINT AS documents
FROM funnel WHERE reason <> 'kept'
GROUP BY crawl, reason ORDER BY crawl, documents DESC, reason;
