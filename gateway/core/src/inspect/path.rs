//! JSON paths for findings, rendered only when something is found.

/// One step of a path.
#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
    /// Descent into JSON embedded in a string.
    Embedded,
    /// Several elements of an array taken together (a match split across content parts).
    Joined,
    /// An object key that itself held a finding, numbered: its text never reaches a path.
    Masked(u32),
    /// A field of a record inside a string (`#csv.Legal_Case_Strategy__c`); the name is a field
    /// rule's, never matched content.
    Record(&'static str, &'a str),
    /// Into a decoded payload (`<base64>`).
    Decoded(&'static str),
    /// A page of a decoded document (`<pdf:page 2>`).
    Page(u32),
    /// A metadata chunk of a decoded image (`<png:tEXt>`).
    Meta(&'static str),
}

/// Renders `$.a.b[0]["odd key"]#json.c`.
pub fn render_path(segs: &[Seg<'_>]) -> String {
    let mut out = String::from("$");
    for s in segs {
        match s {
            Seg::Key(k) if is_ident(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push('[');
                out.push_str(&serde_json::Value::from(*k).to_string());
                out.push(']');
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Seg::Embedded => out.push_str("#json"),
            Seg::Joined => out.push_str("[*]"),
            Seg::Decoded(what) => {
                out.push('<');
                out.push_str(what);
                out.push('>');
            }
            Seg::Page(0) => out.push_str("<pdf>"),
            Seg::Page(n) => {
                out.push_str("<pdf:page ");
                out.push_str(&n.to_string());
                out.push('>');
            }
            Seg::Meta(kind) => {
                out.push_str("<meta:");
                out.push_str(kind);
                out.push('>');
            }
            Seg::Masked(n) => {
                out.push_str("[<key#");
                out.push_str(&n.to_string());
                out.push_str(">]");
            }
            Seg::Record(format, name) => {
                out.push('#');
                out.push_str(format);
                if is_ident(name) {
                    out.push('.');
                    out.push_str(name);
                } else {
                    out.push_str("[<field>]");
                }
            }
        }
    }
    out
}

fn is_ident(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
