/** RFC 4180 CSV: quoted fields with doubled quotes and embedded newlines; errors name file and line. */
export class CsvError extends Error {}

export function parseCsv(text: string, file: string): { rows: string[][]; lines: number[] } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let field = '';
  let i = 0, line = 1, rowLine = 1;
  let quoted = false, wasQuoted = false;
  const endField = () => {
    row.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '')) {
      rows.push(row);
      lines.push(rowLine);
    }
    row = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
        i++;
        const n = text[i];
        if (n !== undefined && n !== ',' && n !== '\n' && n !== '\r') throw new CsvError(`${file}:${line}: unexpected character ${JSON.stringify(n)} after a closing quote`);
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '' || wasQuoted) throw new CsvError(`${file}:${line}: a quote inside an unquoted field`);
      quoted = true;
      wasQuoted = true;
      i++;
      continue;
    }
    if (c === ',') { endField(); i++; continue; }
    if (c === '\r' || c === '\n') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      rowLine = line;
      continue;
    }
    field += c;
    i++;
  }
  if (quoted) throw new CsvError(`${file}:${rowLine}: a quoted field is never closed`);
  if (field !== '' || row.length) endRow();
  return { rows, lines };
}
