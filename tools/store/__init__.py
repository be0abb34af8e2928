"""PostgreSQL store: the database (embedded or external), migrations, knowledge graph, incidents, documents."""
