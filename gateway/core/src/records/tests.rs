#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const NAMES: [&str; 3] = [
    "legal_case_strategy__c",
    "settlement_terms__c",
    "*_privileged__c",
];

fn sites(text: &str) -> Vec<Site> {
    let gate = FieldGate::new(NAMES);
    find_sites(text, &gate, |n| {
        let n = n.to_ascii_lowercase();
        NAMES[..2].contains(&n.as_str()) || n.ends_with("_privileged__c")
    })
}

fn field(text: &str) -> FieldSite {
    match sites(text).into_iter().next() {
        Some(Site::Field(f)) => f,
        other => panic!("no field in {text:?}: {other:?}"),
    }
}

/// `text` with `drop`'s removals applied.
fn dropped(text: &str) -> String {
    let f = field(text);
    let mut out = text.to_owned();
    let mut rs = f.removals.clone();
    rs.sort_by_key(|r| std::cmp::Reverse(r.start));
    for r in rs {
        out.replace_range(r, "");
    }
    out
}

fn values(text: &str) -> Vec<&str> {
    field(text)
        .values
        .iter()
        .map(|v| &text[v.clone()])
        .collect()
}

#[test]
fn json_record_after_prose() {
    let t = r#"Summarize this case: {"Id":"500xx","Legal_Case_Strategy__c":"Settle below 2M","Status":"Open"} thanks"#;
    assert_eq!(field(t).format, Format::Json);
    assert_eq!(values(t), [r#""Settle below 2M""#]);
    assert_eq!(
        dropped(t),
        r#"Summarize this case: {"Id":"500xx","Status":"Open"} thanks"#
    );
    let last = r#"Case {"Id": "1", "legal_case_strategy__c": {"a": [1, "}"]}}"#;
    assert_eq!(dropped(last), r#"Case {"Id": "1"}"#);
    let dict = "record = {'Id': '1', 'legal_case_strategy__c': 'it\\'s secret'}";
    assert_eq!(dropped(dict), "record = {'Id': '1'}");
}

#[test]
fn json_in_code_fence_and_escaped_record() {
    let t = "```json\n{\n  \"Settlement_Terms__c\": 1500000,\n  \"Id\": \"x\"\n}\n```";
    assert_eq!(values(t), ["1500000"]);
    assert_eq!(dropped(t), "```json\n{\n  \"Id\": \"x\"\n}\n```");
    let escaped = r#"payload: {\"legal_case_strategy__c\": \"x\"}"#;
    assert!(matches!(sites(escaped)[0], Site::Unparsed(_)));
}

#[test]
fn csv_column_with_quoted_multiline_cells() {
    let t = "Export:\nId,Legal_Case_Strategy__c,Name\n001,\"Settle, below\n2M\",Acme\n002,Appeal,\"Beta, Inc\"\n\nThanks";
    let f = field(t);
    assert_eq!(f.format, Format::Csv);
    assert_eq!(values(t), ["\"Settle, below\n2M\"", "Appeal"]);
    assert_eq!(
        dropped(t),
        "Export:\nId,Name\n001,Acme\n002,\"Beta, Inc\"\n\nThanks"
    );
    let first = "legal_case_strategy__c\tId\nx\t1\ny\t2";
    assert_eq!(dropped(first), "Id\n1\n2");
    let ragged = "Id,legal_case_strategy__c\n1,a,b\n";
    assert!(matches!(sites(ragged)[0], Site::Unparsed(_)));
    let md = "| Id | Legal_Case_Strategy__c |\n|---|---|\n| 1 | Settle |\n";
    assert_eq!(dropped(md), "| Id |\n|---|\n| 1 |\n");
}

#[test]
fn xml_elements_with_namespaces_and_cdata() {
    let t = "<sf:Case><sf:Id>1</sf:Id><sf:Legal_Case_Strategy__c><![CDATA[Settle </x> below]]></sf:Legal_Case_Strategy__c></sf:Case>";
    assert_eq!(field(t).format, Format::Xml);
    assert_eq!(values(t), ["<![CDATA[Settle </x> below]]>"]);
    assert_eq!(dropped(t), "<sf:Case><sf:Id>1</sf:Id></sf:Case>");
    let attrs = "<Legal_Case_Strategy__c xsi:type=\"string\">A</Legal_Case_Strategy__c>";
    assert_eq!(dropped(attrs), "");
    let unclosed = "<Legal_Case_Strategy__c>Settle below 2M";
    assert!(matches!(sites(unclosed)[0], Site::Unparsed(_)));
}

#[test]
fn label_lines() {
    let t = "Case 500xx\nLegal_Case_Strategy__c: Settle below 2M\nStatus: Open";
    assert_eq!(values(t), ["Settle below 2M"]);
    assert_eq!(dropped(t), "Case 500xx\nStatus: Open");
    let bold = "- **Legal_Case_Strategy__c** = Settle\n";
    assert_eq!(values(bold), ["Settle"]);
    let heading = "Settlement_Terms__c\nPay 2M\nover 3 years\n\nOther";
    assert_eq!(values(heading), ["Pay 2M\nover 3 years"]);
    assert_eq!(dropped(heading), "\nOther");
    let mid = "fields: legal_case_strategy__c=Settle below 2M";
    assert_eq!(values(mid), ["Settle below 2M"]);
}

#[test]
fn globs_unicode_and_mentions() {
    let t = "Matter_Memo_Privileged__c: the memo";
    assert_eq!(values(t), ["the memo"]);
    let zw = "Legal_Case\u{200B}_Strategy__c: hidden";
    assert_eq!(values(zw), ["hidden"]);
    let mention = "Please update the Legal_Case_Strategy__c field tomorrow.";
    assert!(matches!(sites(mention)[0], Site::Mention(_)));
    assert!(sites("legal case strategy, settlement terms").is_empty());
    assert!(sites("xlegal_case_strategy__cx: no").is_empty());
}
