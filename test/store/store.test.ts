/** One suite, two databases: SQLite in a temporary data directory and a fresh PostgreSQL database. */
import { defineStoreSuite } from './define-store-suite.ts';
import { postgresBackend, sqliteBackend } from './store-backends.ts';

defineStoreSuite(sqliteBackend());
defineStoreSuite(postgresBackend());
