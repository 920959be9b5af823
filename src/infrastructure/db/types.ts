import type { Sql, TransactionSql } from 'postgres'

/** Anything data-layer functions can run queries on: the pool or an open transaction. */
export type Db = Sql | TransactionSql
