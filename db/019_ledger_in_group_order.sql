-- A digest's ledger rows are written group by group, each group's readers found through
-- this index: a sender claims rows in group order, and a group's rows then share their
-- pages (no scattered page written per commit, and no sort of all readers at a freeze).
-- The reader's cursor (covered_through) is not in it: it moves for everyone at each freeze.
CREATE INDEX subscribers_by_choices ON subscribers (cadence, topics, min_upvotes, format, also_trending) WHERE status = 'active';
