import Table from 'cli-table3';

/** Tables through cli-table3, without colours (output is often piped or logged). */
function table(head?: string[]): Table.Table {
  return new Table({
    ...(head ? { head } : {}),
    style: { head: [], border: [] },
    // no rule between rows: long plans stay readable
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
}

/** A two-column table of facts. */
export function factsTable(rows: readonly (readonly [string, string])[]): string {
  const t = table();
  for (const [key, value] of rows) t.push([key, value]);
  return t.toString();
}

/** A table with a header row. */
export function gridTable(head: string[], rows: readonly (readonly (string | number)[])[]): string {
  const t = table(head);
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}
