-- Titles and abstracts are stored unwrapped: a title on one line, an abstract as
-- paragraphs each on one line (arXiv's line wraps in daily_papers JSON gone). The
-- rows stored before are rewritten by unwrapStoredText, right after this file; keys
-- and slugs do not change (a key already ignores whitespace).
SELECT 1;
