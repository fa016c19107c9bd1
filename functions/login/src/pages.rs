//! Small HTML pages for browser navigations: errors that cannot go on to the form (an unknown
//! app, a `return_to` the app does not allow), in Japanese or English from `Accept-Language`;
//! and the self-submitting form that carries an app's token by POST after a single sign-on.

use crate::problem::Problem;

/// `ja` when the browser prefers Japanese, else `en`.
pub fn language(accept_language: Option<&str>) -> &'static str {
    let first = accept_language.unwrap_or("").split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if first.starts_with("ja") { "ja" } else { "en" }
}

/// The one script the auto-post page runs; the CSP allows it by hash.
const SUBMIT: &str = "document.forms[0].submit();";

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// A page that posts `fields` to `action` at once (and offers a button without scripts).
pub fn auto_post(action: &str, fields: &[(String, String)]) -> String {
    let inputs: String = fields.iter().map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v))).collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>…</title></head><body>\
         <form method=\"post\" action=\"{}\">{inputs}<noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>{SUBMIT}</script></body></html>",
        escape(action)
    )
}

/// The auto-post page's Content-Security-Policy: its own script only, forms to anywhere (the app).
pub fn auto_post_csp() -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SUBMIT.as_bytes()));
    format!("default-src 'none'; script-src 'sha256-{hash}'; form-action https: http:; frame-ancestors 'none'")
}

pub fn error_page(problem: &Problem, lang: &str) -> String {
    let (title, message) = if lang == "ja" { ("サインインできません", problem.japanese()) } else { ("Cannot sign in", problem.message) };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}}</style></head>\
         <body><main><h1>{title}</h1><p role=\"alert\">{message}</p><p><small>{code}</small></p></main></body></html>",
        code = problem.code
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_preferred_language() {
        assert_eq!(language(Some("ja-JP,ja;q=0.9,en;q=0.8")), "ja");
        assert_eq!(language(Some("en-US,ja;q=0.5")), "en");
        assert_eq!(language(None), "en");
    }

    #[test]
    fn the_auto_post_page_escapes_what_it_carries() {
        let page = auto_post("https://acme.zendesk.com/access/jwt?a=1&b=2", &[("jwt".into(), "x\"><script>".into())]);
        assert!(page.contains("action=\"https://acme.zendesk.com/access/jwt?a=1&amp;b=2\""));
        assert!(page.contains("value=\"x&quot;&gt;&lt;script&gt;\""));
        assert!(auto_post_csp().starts_with("default-src 'none'; script-src 'sha256-"));
    }
}
