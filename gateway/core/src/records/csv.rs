//! CSV and TSV inside text: Salesforce Data Loader and report exports, Markdown tables. A field
//! rule's name as a column header covers every cell of that column.

use super::{line_start, FieldSite, Format};
use std::ops::Range;

const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];

/// The column headed by the name at `name`. `Err` when the table cannot be read to its end
/// (a quote that never closes, a row with another number of cells): the caller redacts the
/// whole text rather than guess which cells belong to the column.
pub(super) fn column(t: &str, name: &Range<usize>) -> Option<Result<FieldSite, ()>> {
    let delim = delimiter_around(t, name)?;
    let start = line_start(t, name.start);
    let (header, mut next) = row(t, start, delim)?;
    if header.len() < 2 {
        return None;
    }
    let col = header.iter().position(|c| c.contains(&name.start))?;
    if cell_text(t, &header[col]) != &t[name.clone()] {
        return None;
    }
    let mut removals = vec![cell_removal(&header, col)];
    let mut values = Vec::new();
    while next < t.len() {
        let Some((cells, after)) = row(t, next, delim) else {
            return Some(Err(()));
        };
        if cells.len() < 2 {
            break;
        }
        if cells.len() != header.len() {
            return Some(Err(()));
        }
        removals.push(cell_removal(&cells, col));
        if !cell_text(t, &cells[col]).is_empty() {
            values.push(cells[col].clone());
        }
        next = after;
    }
    Some(Ok(FieldSite {
        format: Format::Csv,
        name: name.clone(),
        values,
        removals,
        quote: None,
    }))
}

/// The delimiter right after (or before) the header cell holding the name, past quotes and
/// spaces.
fn delimiter_around(t: &str, name: &Range<usize>) -> Option<u8> {
    let b = t.as_bytes();
    let pad = |c: u8| matches!(c, b'"' | b' ');
    let after = b[name.end..].iter().copied().find(|&c| !pad(c));
    if let Some(d) = after.filter(|c| DELIMITERS.contains(c)) {
        return Some(d);
    }
    let before = b[..name.start].iter().rev().copied().find(|&c| !pad(c));
    before.filter(|c| DELIMITERS.contains(c))
}

/// The cell's text without surrounding spaces and quotes.
fn cell_text<'t>(t: &'t str, cell: &Range<usize>) -> &'t str {
    t[cell.clone()].trim().trim_matches('"').trim()
}

/// What removing cell `col` of a row takes out: the cell and the delimiter before it (after it,
/// for the first cell).
fn cell_removal(cells: &[Range<usize>], col: usize) -> Range<usize> {
    if col == 0 {
        cells[0].start..cells[1].start
    } else {
        cells[col - 1].end..cells[col].end
    }
}

/// One row from `start`: its cells (quotes included) and where the next row starts. Quoted cells
/// may hold delimiters, doubled quotes and line breaks. `None` for a quote that never closes.
fn row(t: &str, start: usize, delim: u8) -> Option<(Vec<Range<usize>>, usize)> {
    let b = t.as_bytes();
    let mut cells = Vec::new();
    let mut cell_start = start;
    let mut i = start;
    let mut quoted = false;
    loop {
        if i >= b.len() {
            if quoted {
                return None;
            }
            cells.push(cell_start..i);
            return Some((cells, i));
        }
        let c = b[i];
        if quoted {
            if c == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if c == b'"' && t[cell_start..i].trim().is_empty() {
            quoted = true;
        } else if c == delim {
            cells.push(cell_start..i);
            cell_start = i + 1;
        } else if c == b'\n' {
            let end = if i > cell_start && b[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            cells.push(cell_start..end);
            return Some((cells, i + 1));
        }
        i += 1;
    }
}
