-- What the daily_papers JSON knows and page text does not: the arXiv id (a paper's
-- identity once known), author names, links, comments, keywords and a thumbnail.
ALTER TABLE papers ADD COLUMN arxiv_id TEXT;
ALTER TABLE papers ADD COLUMN authors TEXT;
ALTER TABLE papers ADD COLUMN github_repo TEXT;
ALTER TABLE papers ADD COLUMN project_page TEXT;
ALTER TABLE papers ADD COLUMN num_comments INTEGER;
ALTER TABLE papers ADD COLUMN keywords TEXT;
ALTER TABLE papers ADD COLUMN thumbnail TEXT;
CREATE UNIQUE INDEX papers_by_arxiv_id ON papers (arxiv_id) WHERE arxiv_id IS NOT NULL;

-- Sample data is a demo: papers first seen in a bundled sample dump while papermail ran
-- unconfigured stay out of digests once it is configured, unless ingested on purpose.
ALTER TABLE papers ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dumps ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
