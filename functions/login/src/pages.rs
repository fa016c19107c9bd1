//! Small HTML pages for browser navigations that cannot go on to the form (an unknown app, a
//! `return_to` the app does not allow), in Japanese or English from `Accept-Language`.

use crate::problem::Problem;

/// `ja` when the browser prefers Japanese, else `en`.
pub fn language(accept_language: Option<&str>) -> &'static str {
    let first = accept_language.unwrap_or("").split(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if first.starts_with("ja") { "ja" } else { "en" }
}

fn japanese(code: &str) -> &'static str {
    match code {
        "unknown_app" => "このサインインリンクは登録されていないアプリのものです。",
        "return_to_not_allowed" => "このサインインリンクは、アプリが許可していないページへ移動しようとしています。",
        "throttled" | "unavailable" => "サインインは一時的にご利用いただけません。しばらくしてから再度お試しください。",
        _ => "サインインリンクが正しくありません。アプリからもう一度お試しください。",
    }
}

pub fn error_page(problem: &Problem, lang: &str) -> String {
    let (title, message) = if lang == "ja" { ("サインインできません", japanese(problem.code)) } else { ("Cannot sign in", problem.message) };
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
}
