//! The one mapping from a sign-in error to what the browser is told: HTTP status, a stable
//! error code the form localises, an English message, and `Retry-After` where waiting helps.
//! Internal details (AWS error codes, key ids) are logged, never sent.

use http::StatusCode;
use shared::common::store::StoreError;
use shared::directory::ports::DirectoryError;
use shared::signin::challenge::AuthError;
use shared::signin::corporate::CorporateError;
use shared::signin::flow::FlowError;
use shared::signin::ports::{OidcError, TokenRejected};
use shared::signin::service::SignInError;
use shared::tokens::targets::mint::MintError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub retry_after: Option<u32>,
}

const fn p(status: StatusCode, code: &'static str, message: &'static str) -> Problem {
    Problem { status, code, message, retry_after: None }
}

pub const UNAVAILABLE: Problem = Problem {
    status: StatusCode::SERVICE_UNAVAILABLE,
    code: "unavailable",
    message: "Sign-in is temporarily unavailable. Please try again in a moment.",
    retry_after: Some(5),
};
const THROTTLED: Problem = Problem {
    status: StatusCode::TOO_MANY_REQUESTS,
    code: "throttled",
    message: "Too many sign-in requests right now. Please wait a moment and try again.",
    retry_after: Some(2),
};

pub const BAD_REQUEST: Problem = p(StatusCode::BAD_REQUEST, "invalid_request", "The request is missing a field or has an invalid value.");
pub const NOT_FOUND: Problem = p(StatusCode::NOT_FOUND, "not_found", "There is nothing here.");
pub const METHOD_NOT_ALLOWED: Problem = p(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This method is not allowed here.");
pub const UNSUPPORTED_MEDIA_TYPE: Problem = p(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Send JSON (Content-Type: application/json).");
pub const TOO_LARGE: Problem = p(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", "The request is too large.");
/// A sign-in whose next step would not fit the token the browser carries (its app token, or the
/// person's Cognito tokens, too large): refused before that step's own writes (a handoff's
/// session, a consent step's decisions) and before an email code is sent for it.
const SIGN_IN_TOO_LARGE: Problem =
    p(StatusCode::UNPROCESSABLE_ENTITY, "sign_in_too_large", "Your account has more details than this sign-in can carry. Contact support.");
pub const CODE_MISMATCH: Problem = p(StatusCode::UNAUTHORIZED, "code_mismatch", "That code is not correct.");
const OTHER_BROWSER: Problem =
    p(StatusCode::FORBIDDEN, "other_browser", "This sign-in was started in another browser. Start again from the app in this browser.");
pub const ORIGIN_NOT_ALLOWED: Problem = p(StatusCode::FORBIDDEN, "origin_not_allowed", "Requests from this origin are not allowed.");

/// Each error code's message in Japanese (the English is the problem's own `message`): the pages
/// the API shows (`pages::error_page`) and, word for word, the form's (`static-form/i18n.js`,
/// checked by the test below). In code order.
const JAPANESE: &[(&str, &str)] = &[
    ("account_deactivated", "このアカウントは無効化されています。社内のIT管理者にお問い合わせください。"),
    ("account_not_confirmed", "アカウントの確認がまだ完了していません。"),
    ("app_request_invalid", "アプリからのサインイン要求が無効か、期限切れです。アプリに戻ってもう一度お試しください。"),
    ("authenticator_exists", "認証アプリはすでに設定されています。別のものを追加するには、先に削除してください。"),
    ("challenge_expired", "この手順の有効期限が切れました。もう一度サインインしてください。"),
    ("code_expired", "確認コードの有効期限が切れています。新しいコードを請求してください。"),
    ("code_mismatch", "確認コードが正しくありません。"),
    ("confirm_mismatch", "確認のため、メールアドレスを正確に入力してください。"),
    ("consent_required", "続行するには、必須の規約に同意してください。準備ができたら、もう一度サインインしてください。"),
    ("corporate_denied", "会社でのサインインが完了しませんでした。"),
    (
        "corporate_email_unverified",
        "会社のサインインでメールアドレスが確認されなかったため、アカウントを特定できません。社内のIT管理者にお問い合わせください。",
    ),
    ("corporate_failed", "会社でのサインインを確認できませんでした。もう一度お試しください。"),
    (
        "corporate_mfa_required",
        "普段と異なるサインインのため、このアプリでは二要素認証が必要ですが、会社のサインインで二要素認証が確認できませんでした。社内のIT管理者にお問い合わせください。",
    ),
    ("corporate_outside_domain", "会社アカウントのメールアドレスが、この組織のサインイン対象ではありません。"),
    ("corporate_state", "このサインインは無効か期限切れです。アプリからもう一度やり直してください。"),
    ("corporate_unavailable", "会社サインインは一時的にご利用いただけません。しばらくしてから再度お試しください。"),
    ("email_domain_managed", "このメールアドレスのドメインのアカウントは会社が管理しています。別のアドレスを使用してください。"),
    ("email_in_use", "このメールアドレスは別のアカウントで使用されています。"),
    ("email_not_verified", "メールアドレスの確認がまだ完了していません。"),
    ("email_unchanged", "すでにこのメールアドレスをお使いです。"),
    ("factor_off", "その2段階認証はオンになっていません。"),
    ("flow_expired", "このサインインページの有効期限が切れました。アプリからもう一度やり直してください。"),
    ("handoff_used", "このサインインはすでに完了しています。アプリからもう一度サインインしてください。"),
    ("invalid_credentials", "メールアドレスまたはパスワードが正しくありません。"),
    ("invalid_email", "正しいメールアドレスを入力してください。"),
    ("invalid_flow", "このサインインページは無効です。アプリからもう一度やり直してください。"),
    ("invalid_language", "表示されている言語から選んでください。"),
    ("invalid_name", "お名前を入力してください（100文字以内）。"),
    ("invalid_phone", "電話番号は国番号から入力してください（例：+81 90 1234 5678）。"),
    ("invalid_request", "リクエストに不足している項目か、正しくない値があります。"),
    ("managed_by_company", "このアカウントは会社が管理しています。変更や削除は社内のIT管理者にお問い合わせください。"),
    ("method_not_allowed", "この操作はここでは許可されていません。"),
    ("mfa_required", "普段と異なるサインインのため、二要素認証が必要です。認証アプリを設定してから、もう一度サインインしてください。"),
    ("not_assigned", "このアカウントにはこのアプリへのアクセス権がありません。アプリの管理者にアクセス権の付与を依頼してください。"),
    ("not_found", "ここには何もありません。"),
    ("not_provisioned", "このサービスの利用がまだ会社から許可されていません。社内のIT管理者にお問い合わせください。"),
    ("not_signed_in", "セッションが終了しました。もう一度サインインしてから、アプリからアカウントページを開いてください。"),
    ("origin_not_allowed", "このオリジンからのリクエストは許可されていません。"),
    ("other_browser", "このサインインは別のブラウザで開始されました。このブラウザでアプリからもう一度サインインしてください。"),
    ("password_breached", "このパスワードは過去のデータ漏えいで流出しており、第三者に試されるおそれがあります。別のパスワードを選んでください。"),
    ("password_policy", "新しいパスワードがパスワードの条件を満たしていません。"),
    ("password_reset_required", "パスワードの再設定が必要です。お送りした確認コードを入力してください。"),
    ("password_sign_in_disabled", "所属する組織の設定により、パスワードではサインインできません。会社のサインインページからサインインしてください。"),
    ("phone_country_not_allowed", "この国・地域の電話番号にはショートメッセージのコードを送れません。"),
    ("phone_not_verified", "ショートメッセージを受け取れる確認済みの電話番号がありません。"),
    ("profile_incomplete", "このアプリに必要なアカウント情報が不足しています。サポートにお問い合わせください。"),
    ("request_too_large", "リクエストが大きすぎます。"),
    ("return_to_not_allowed", "このサインインリンクは、アプリが許可していないページへ移動しようとしています。"),
    ("sign_in_denied", "普段と異なるサインインのため、ブロックしました。以前に使用した端末からもう一度お試しいただくか、サポートにお問い合わせください。"),
    ("sign_in_too_large", "アカウントの情報が多すぎるため、このサインインを完了できません。サポートにお問い合わせください。"),
    ("sign_up_closed", "このアプリではここでアカウントを作成できません。アプリのサポートにお問い合わせください。"),
    ("sms_on", "ショートメッセージのコードが2段階認証になっています。先にオフにしてから番号を変更してください。"),
    (
        "stronger_sign_in_required",
        "普段と異なるサインインのため、このアプリではメールのコードだけではサインインできません。パスワードまたはパスキーでサインインしてください。",
    ),
    ("throttled", "ただいまサインインが混み合っています。少し待ってからもう一度お試しください。"),
    ("too_many_attempts", "試行回数が多すぎます。しばらく待ってからもう一度お試しください。"),
    ("unavailable", "サインインは一時的にご利用いただけません。しばらくしてから再度お試しください。"),
    ("unknown_app", "このサインインリンクは登録されていないアプリのものです。"),
    ("unknown_domain", "このメールアドレスの会社サインインが見つかりませんでした。パスワードでサインインしてください。"),
    ("unsupported_challenge", "このアカウントには、このページではまだ対応していないサインイン手順が必要です。サポートにお問い合わせください。"),
    ("unsupported_media_type", "JSON で送信してください（Content-Type: application/json）。"),
    ("use_corporate", "このアカウントはお勤め先の会社が管理しています。会社のメールアドレスでサインインしてください。"),
];

impl Problem {
    /// The message in Japanese (the generic one for a code without its own, which the test below
    /// rules out).
    pub fn japanese(&self) -> &'static str {
        JAPANESE.iter().find(|(code, _)| *code == self.code).map_or("問題が発生しました。もう一度お試しください。", |(_, text)| text)
    }

    pub fn of(error: &SignInError) -> Self {
        use StatusCode as S;
        match error {
            SignInError::BadInput(field) => Self::of_bad_input(field),
            SignInError::UnknownApp => p(S::NOT_FOUND, "unknown_app", "This sign-in link is not for a known app."),
            SignInError::ReturnTo(_) => p(S::BAD_REQUEST, "return_to_not_allowed", "This sign-in link would send you to a page the app does not allow."),
            SignInError::Flow(FlowError::Invalid) => p(S::BAD_REQUEST, "invalid_flow", "This sign-in page is not valid. Start again from the app."),
            SignInError::Flow(FlowError::Expired) => p(S::BAD_REQUEST, "flow_expired", "This sign-in page has expired. Start again from the app."),
            SignInError::Flow(FlowError::TooLarge) | SignInError::Token(TokenRejected::TooLarge) => SIGN_IN_TOO_LARGE,
            SignInError::Auth(auth) => Self::of_auth(auth),
            SignInError::EmailNotVerified => p(S::FORBIDDEN, "email_not_verified", "Your email address is not verified yet."),
            SignInError::HighRiskDenied => p(
                S::FORBIDDEN,
                "sign_in_denied",
                "This sign-in looks unusual, so it was stopped. Try again from a device you have used before, or contact support.",
            ),
            SignInError::AccountRevoked => p(S::FORBIDDEN, "account_deactivated", "Your account is deactivated. Contact your IT administrator."),
            SignInError::NotAssigned => {
                p(S::FORBIDDEN, "not_assigned", "Your account does not have access to this app. Ask the app's administrator to give you access.")
            }
            SignInError::HandoffUsed => p(S::BAD_REQUEST, "handoff_used", "This sign-in was already completed. Start again from the app."),
            SignInError::OtherBrowser => OTHER_BROWSER,
            SignInError::SecondFactorRequired => p(
                S::FORBIDDEN,
                "mfa_required",
                "This sign-in looks unusual and needs a second factor. Set up an authenticator app for your account, then sign in again.",
            ),
            SignInError::StrongerSignInRequired => p(
                S::FORBIDDEN,
                "stronger_sign_in_required",
                "This sign-in looks unusual, and this app needs more than an email code. Sign in with your password or a passkey.",
            ),
            SignInError::ProviderSecondFactorRequired => p(
                S::FORBIDDEN,
                "corporate_mfa_required",
                "This sign-in looks unusual and this app needs a second factor, which your company's sign-in did not report. Contact your IT administrator.",
            ),
            SignInError::NotSignedIn => p(S::UNAUTHORIZED, "not_signed_in", "Your session has ended. Sign in again, then open your account page from the app."),
            SignInError::ManagedByCompany => {
                p(S::FORBIDDEN, "managed_by_company", "Your company manages your account. Ask your IT administrator to change or delete it.")
            }
            SignInError::ConsentRequired => {
                p(S::FORBIDDEN, "consent_required", "You need to accept the required terms to continue. Sign in again when you are ready.")
            }
            SignInError::SignUpClosed => p(S::FORBIDDEN, "sign_up_closed", "You cannot create an account for this app here. Contact its support."),
            SignInError::UseCorporate => p(S::CONFLICT, "use_corporate", "Your company manages your account. Sign in with your corporate email."),
            SignInError::PasswordSignInDisabled => {
                p(S::FORBIDDEN, "password_sign_in_disabled", "Your organisation manages your sign-in. Sign in through your company's sign-in page.")
            }
            SignInError::Mint(MintError::MissingEmail | MintError::MissingName | MintError::MissingClaim(_)) => {
                p(S::UNPROCESSABLE_ENTITY, "profile_incomplete", "Your account is missing details this app needs. Contact support.")
            }
            SignInError::AppRequest(_) | SignInError::SamlRequest(_) | SignInError::Authorization(_) | SignInError::Mint(MintError::MissingRequest) => {
                p(S::BAD_REQUEST, "app_request_invalid", "The app's sign-in request is not valid or has expired. Go back to the app and try again.")
            }
            SignInError::Mint(MintError::Signing)
            | SignInError::Signer(_)
            | SignInError::Token(TokenRejected::Invalid(_) | TokenRejected::KeysUnavailable(_)) => UNAVAILABLE,
            SignInError::Store(e) => Self::of_store(e),
            SignInError::Directory(e) => Self::of_directory(e),
        }
    }

    fn of_store(error: &StoreError) -> Self {
        if *error == StoreError::Throttled { THROTTLED } else { UNAVAILABLE }
    }

    fn of_directory(error: &DirectoryError) -> Self {
        if *error == DirectoryError::Throttled { THROTTLED } else { UNAVAILABLE }
    }

    pub fn of_corporate(error: &CorporateError) -> Self {
        use StatusCode as S;
        const TRY_AGAIN: Problem = p(StatusCode::UNAUTHORIZED, "corporate_failed", "Your company's sign-in could not be confirmed. Please try again.");
        match error {
            CorporateError::BadInput("email") => p(S::BAD_REQUEST, "invalid_email", "Enter a valid email address."),
            CorporateError::BadInput(_) => BAD_REQUEST,
            CorporateError::UnknownDomain | CorporateError::NotConnected => {
                p(S::NOT_FOUND, "unknown_domain", "We could not find company sign-in for this email address. Sign in with your password instead.")
            }
            CorporateError::Flow(FlowError::Invalid) => p(S::BAD_REQUEST, "invalid_flow", "This sign-in page is not valid. Start again from the app."),
            CorporateError::Flow(FlowError::Expired) => p(S::BAD_REQUEST, "flow_expired", "This sign-in page has expired. Start again from the app."),
            CorporateError::Flow(FlowError::TooLarge) => SIGN_IN_TOO_LARGE,
            CorporateError::InvalidState => p(S::BAD_REQUEST, "corporate_state", "This sign-in attempt is no longer valid. Start again from the app."),
            CorporateError::OtherBrowser => OTHER_BROWSER,
            CorporateError::ProviderDenied(_) => p(S::FORBIDDEN, "corporate_denied", "Your company's sign-in did not complete."),
            CorporateError::Provider(OidcError::Refused(_) | OidcError::BadToken(_)) | CorporateError::Claims(_) => TRY_AGAIN,
            CorporateError::Provider(OidcError::Unavailable(_)) | CorporateError::Unconfigured => {
                Problem { code: "corporate_unavailable", message: "Company sign-in is temporarily unavailable. Please try again in a moment.", ..UNAVAILABLE }
            }
            CorporateError::OutsideDomain | CorporateError::OtherOrganisation => {
                p(S::FORBIDDEN, "corporate_outside_domain", "Your company account's email address is not one your organisation signs in with here.")
            }
            CorporateError::NotProvisioned => {
                p(S::FORBIDDEN, "not_provisioned", "Your company has not given you access to this service yet. Contact your IT administrator.")
            }
            CorporateError::EmailNotVerified => p(
                S::FORBIDDEN,
                "corporate_email_unverified",
                "Your company's sign-in did not confirm your email address, so we cannot find your account. Contact your IT administrator.",
            ),
            CorporateError::OtherProvider => TRY_AGAIN,
            CorporateError::Deactivated => p(S::FORBIDDEN, "account_deactivated", "Your account is deactivated. Contact your IT administrator."),
            CorporateError::Store(e) => Self::of_store(e),
            CorporateError::Directory(e) => Self::of_directory(e),
        }
    }

    /// A field the person got wrong, or a change their account does not allow (`BadInput`).
    fn of_bad_input(field: &str) -> Self {
        use StatusCode as S;
        match field {
            "email" => p(S::BAD_REQUEST, "invalid_email", "Enter a valid email address."),
            "name" => p(S::BAD_REQUEST, "invalid_name", "Enter your name (at most 100 characters)."),
            "confirm" => p(S::BAD_REQUEST, "confirm_mismatch", "Type your email address exactly to confirm."),
            "phone_number" => p(S::CONFLICT, "phone_not_verified", "Your account has no verified phone number for text messages."),
            "phone_number_format" => p(S::BAD_REQUEST, "invalid_phone", "Enter the phone number with its country code, for example +81 90 1234 5678."),
            "phone_number_country" => p(S::BAD_REQUEST, "phone_country_not_allowed", "Text message codes cannot be sent to numbers in that country or region."),
            "authenticator_exists" => p(S::CONFLICT, "authenticator_exists", "You already have an authenticator app. Remove it first to add another."),
            "sms_on" => p(S::CONFLICT, "sms_on", "Text message codes are your second factor. Turn them off first, then change the number."),
            "factor" => p(S::CONFLICT, "factor_off", "That second factor is not turned on."),
            "language" => p(S::BAD_REQUEST, "invalid_language", "Choose one of the languages offered."),
            "email_unchanged" => p(S::BAD_REQUEST, "email_unchanged", "That is your email address already."),
            "email_domain" => p(S::CONFLICT, "email_domain_managed", "A company manages the accounts of this email domain. Use another address."),
            "email_in_use" => p(S::CONFLICT, "email_in_use", "Another account uses this email address."),
            _ => BAD_REQUEST,
        }
    }

    fn of_auth(error: &AuthError) -> Self {
        use StatusCode as S;
        match error {
            AuthError::InvalidCredentials => p(S::UNAUTHORIZED, "invalid_credentials", "Incorrect email or password."),
            AuthError::PasswordResetRequired => p(S::FORBIDDEN, "password_reset_required", "You need to set a new password. Enter the code we sent you."),
            AuthError::NotConfirmed => p(S::FORBIDDEN, "account_not_confirmed", "Your account is not confirmed yet."),
            // Never shown for what it is (sign-up answers the same either way); listed for completeness.
            AuthError::AccountExists => CODE_MISMATCH,
            AuthError::CodeMismatch => CODE_MISMATCH,
            AuthError::CodeExpired => p(S::UNAUTHORIZED, "code_expired", "That code has expired. Ask for a new one."),
            AuthError::ChallengeExpired => p(S::UNAUTHORIZED, "challenge_expired", "This sign-in step has expired. Sign in again."),
            AuthError::PasswordPolicy => p(S::BAD_REQUEST, "password_policy", "The new password does not meet the password rules."),
            AuthError::PasswordBreached => {
                p(S::BAD_REQUEST, "password_breached", "This password has appeared in a data breach, so others may try it. Choose another.")
            }
            AuthError::TooManyAttempts => {
                Problem { retry_after: Some(60), ..p(S::TOO_MANY_REQUESTS, "too_many_attempts", "Too many attempts. Wait a while and try again.") }
            }
            AuthError::UnsupportedChallenge(_) => {
                p(S::FORBIDDEN, "unsupported_challenge", "Your account needs a sign-in step this page cannot do yet. Contact support.")
            }
            AuthError::Throttled => THROTTLED,
            AuthError::Unavailable(_) | AuthError::Misconfigured(_) => UNAVAILABLE,
        }
    }

    /// Whether the cause is on our side (logged as an error) rather than the person's.
    pub fn is_server_side(&self) -> bool {
        self.status.is_server_error()
    }
}

#[cfg(test)]
mod tests {
    use super::JAPANESE;

    /// `code: "message"` pairs of one language's `errors` in the form's messages.
    fn form_errors(language: &str) -> Vec<(String, String)> {
        let messages = include_str!("../../../static-form/i18n.js");
        let block = messages.split(&format!("\n  {language}: {{")).nth(1).and_then(|b| b.split("\n    errors: {").nth(1)).unwrap_or_default();
        let block = block.split("\n    }").next().unwrap_or_default();
        block
            .lines()
            .filter_map(|line| line.trim().split_once(": \""))
            .map(|(code, text)| (code.to_owned(), text.trim_end_matches(',').trim_end_matches('"').to_owned()))
            .collect()
    }

    /// Every code this file answers with (`p(S…, code, message)` and `Problem { code, message,
    /// … }` literals; a code built another way would be missed), and its English message (none
    /// for a literal that takes another problem's: the test refuses that).
    fn answered() -> Vec<(String, Option<String>)> {
        let source = include_str!("problem.rs");
        let source = source[..source.find("#[cfg(test)]").unwrap_or(source.len())].split_whitespace().collect::<Vec<_>>().join(" ");
        let quoted = |piece: &str| piece.split('"').skip(1).step_by(2).map(str::to_owned).take(2).collect::<Vec<_>>();
        let calls = source.split("p( S").skip(1).chain(source.split("p(S").skip(1)).map(|piece| match &quoted(piece)[..] {
            [code, message] => Some((code.clone(), Some(message.clone()))),
            _ => None,
        });
        // A struct literal's code, and its message when the literal (up to its `}`) gives one.
        let literals = source.split("code: \"").skip(1).map(|piece| {
            let literal = piece.split('}').next().unwrap_or_default();
            let code = literal.split('"').next()?.to_owned();
            let message = literal.split_once("\", message: \"").map(|(_, rest)| rest.split('"').next().unwrap_or_default().to_owned());
            Some((code, message))
        });
        let mut found: Vec<(String, Option<String>)> = Vec::new();
        for (code, message) in calls.chain(literals).flatten() {
            if code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !found.iter().any(|(c, _)| *c == code) {
                found.push((code, message));
            }
        }
        found
    }

    /// Every message the API answers with exists in Japanese, and the form says the same thing as
    /// the API's pages in both languages (one wording per code, checked here as the two drift).
    #[test]
    fn every_code_has_one_message_in_each_language_and_the_form_uses_the_same_words() {
        let answered = answered();
        assert!(answered.len() > 50, "the codes were read: {answered:?}");
        let (en, ja) = (form_errors("en"), form_errors("ja"));
        assert!(en.len() > 50 && ja.len() > 50, "the form's messages were read");
        let form = |messages: &[(String, String)], code: &str| messages.iter().find(|(c, _)| c == code).map(|(_, t)| t.clone());
        for (code, message) in &answered {
            let japanese = JAPANESE.iter().find(|(c, _)| c == code).map(|(_, t)| (*t).to_owned());
            assert!(japanese.is_some(), "{code} has no Japanese message");
            assert_eq!(form(&en, code).as_ref(), message.as_ref(), "{code}: the form's English (a code of its own has a message of its own)");
            assert_eq!(form(&ja, code), japanese, "{code}: the form's Japanese");
        }
        let codes: Vec<&str> = JAPANESE.iter().map(|(c, _)| *c).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "in code order, each once");
        assert!(codes.iter().all(|c| answered.iter().any(|(a, _)| a == c)), "no message for a code never answered");
    }
}
