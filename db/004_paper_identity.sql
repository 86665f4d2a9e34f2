-- Paper keys keep symbols now ("Q-Learning" and "Q*-Learning" are two papers). A paper
-- keeps its public id (slug); where its new key hashes to another id, the new hash
-- is an alias that finds the same paper. Keys are recomputed by the migration code.
CREATE TABLE paper_aliases (
  ident    TEXT    PRIMARY KEY,
  paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE
) STRICT;
