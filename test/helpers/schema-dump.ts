import type { Database } from '../../src/db/database.ts';

/**
 * The schema of a database as text, one object a line, sorted: tables and their columns,
 * constraints, indexes, sequences, row-level security and policies, triggers, functions (with a hash
 * of their body) and the app role's grants. Built from the catalogs rather than pg_dump so that it
 * reads the same on PGlite and PostgreSQL.
 */
export async function describeSchema(db: Database): Promise<string> {
  const sections = await Promise.all(QUERIES.map((text) => db.query<{ line: string }>(text)));
  return `${sections.flatMap((rows) => rows.map((row) => row.line).sort()).join('\n')}\n`;
}

const PUBLIC = `(SELECT oid FROM pg_namespace WHERE nspname = 'public')`;

const QUERIES = [
  `SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
          || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
          || CASE WHEN a.attidentity::text <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
          || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
          || CASE WHEN co.collname IS NOT NULL AND co.collname <> 'default' THEN ' collate ' || co.collname ELSE '' END
          AS line
     FROM pg_class c
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE c.relnamespace = ${PUBLIC} AND c.relkind = 'r'`,
  `SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) AS line
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE c.relnamespace = ${PUBLIC} AND k.contype <> 'n'`, // PostgreSQL 17 lists NOT NULL constraints here too
  `SELECT 'index ' || indexname || ' ' || indexdef AS line FROM pg_indexes WHERE schemaname = 'public'`,
  `SELECT 'sequence ' || relname AS line FROM pg_class WHERE relnamespace = ${PUBLIC} AND relkind = 'S'`,
  `SELECT 'security ' || relname || CASE WHEN relrowsecurity THEN ' enabled' ELSE ' disabled' END
          || CASE WHEN relforcerowsecurity THEN ' forced' ELSE '' END AS line
     FROM pg_class WHERE relnamespace = ${PUBLIC} AND relkind = 'r'`,
  `SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' to ' || array_to_string(roles, ',')
          || ' using ' || coalesce(qual, '') AS line
     FROM pg_policies WHERE schemaname = 'public'`,
  `SELECT 'trigger ' || c.relname || ' ' || pg_get_triggerdef(t.oid) AS line
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = ${PUBLIC} AND NOT t.tgisinternal`,
  `SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
          || pg_get_function_result(p.oid) || coalesce(' set ' || array_to_string(p.proconfig, ','), '')
          || ' body ' || md5(p.prosrc) AS line
     FROM pg_proc p WHERE p.pronamespace = ${PUBLIC}`,
  `SELECT 'grant ' || table_name || ' ' || string_agg(privilege_type, ',' ORDER BY privilege_type) AS line
     FROM information_schema.role_table_grants
    WHERE grantee = 'sync_manager_app' AND table_schema = 'public'
    GROUP BY table_name`,
];
