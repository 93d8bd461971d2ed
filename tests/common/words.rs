//! UX.md's checks on the words of a page as its visitor reads them (the page's visible text):
//! none of principle 1's technical words or raw ids, no ISO date, and not a sentence of the
//! other language's catalogs.

use carnet_service::i18n::Catalog;

/// Words that belong to developers' pages only (UX.md, principle 1).
const TECHNICAL: [&str; 13] = [
    "SD-JWT", "VC", "vct", "claim", "JWK", "kid", "DCQL", "OpenID", "nonce", "holder", "URN",
    "JSON", "claims",
];

/// Every catalog of the portals and the landing page.
pub fn catalogs() -> Vec<Catalog> {
    let mut all = vec![
        carnet_issuer::PAGE_TEXTS,
        carnet_verifier::PAGE_TEXTS,
        carnet_wallet::PAGE_TEXTS,
        carnet::web::CATALOG,
    ];
    all.extend(carnet_service::web::shared_catalogs());
    all
}

/// The sentences of the catalogs in one language that the other does not share: texts of
/// three words or more (between placeholders), that differ from their translation.
fn sentences(english: bool) -> Vec<String> {
    let mut out = Vec::new();
    for catalog in catalogs() {
        for (_, fr, en) in catalog.iter() {
            let (text, other) = if english { (en, fr) } else { (fr, en) };
            if text == other {
                continue;
            }
            for piece in text.split(['{', '}', '(', ')', ':', '…']) {
                let piece = piece.trim().trim_end_matches(['.', ',', ';']);
                if piece.split_whitespace().count() >= 3 && !other.contains(piece) {
                    out.push(piece.to_owned());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A raw id as the services make them: a short prefix, `_`, ten or more random characters.
fn raw_id(word: &str) -> bool {
    let Some((prefix, rest)) = word.split_once('_') else {
        return false;
    };
    (2..=4).contains(&prefix.len())
        && prefix.chars().all(|c| c.is_ascii_lowercase())
        && rest.len() >= 10
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn iso_date(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// What is wrong with the words of a page whose `<html lang>` is `lang`: each problem said.
/// Addresses (`http…`, a link shown as such) are not words and are skipped.
pub fn problems(text: &str, lang: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains("openid-credential-offer://") {
        found.push("a protocol link".to_owned());
    }
    for word in text.split_whitespace() {
        if word.starts_with("http://") || word.starts_with("https://") {
            continue;
        }
        let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-');
        if TECHNICAL.contains(&word) {
            found.push(format!("technical word {word:?}"));
        }
        if raw_id(word) {
            found.push(format!("raw id {word:?}"));
        }
        if iso_date(word) {
            found.push(format!("ISO date {word:?}"));
        }
    }
    let other_language = match lang {
        "fr" => sentences(true),
        _ => sentences(false),
    };
    // Compared without line breaks: a sentence may wrap.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for sentence in other_language {
        if flat.contains(&sentence) {
            found.push(format!(
                "{sentence:?} is not in the page's language ({lang})"
            ));
        }
    }
    found
}

/// The text a visitor reads in a page's HTML: what is between the tags, outside scripts,
/// styles and drawn icons, with the usual entities decoded.
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        rest = &rest[start..];
        let skipped = ["script", "style", "svg"].iter().find_map(|tag| {
            let open = format!("<{tag}");
            rest.starts_with(&open).then(|| {
                let close = format!("</{tag}>");
                rest.find(&close).map_or(rest.len(), |i| i + close.len())
            })
        });
        let end = skipped.unwrap_or_else(|| rest.find('>').map_or(rest.len(), |i| i + 1));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}
