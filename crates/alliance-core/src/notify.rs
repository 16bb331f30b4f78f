//! What leaves Alliance to tell staff that something needs them (policy section 2): never a
//! child's name, never content. The same words for every task and notice.

/// The subject and body of the email that tells a member of staff to sign in.
pub fn nudge_email(sign_in_url: Option<&str>) -> (String, String) {
    let subject = "Something in Alliance needs you".to_owned();
    let mut body = "Something in Alliance needs you. Sign in to see it.\r\n".to_owned();
    if let Some(url) = sign_in_url {
        body.push_str(&format!("\r\n{url}\r\n"));
    }
    body.push_str(
        "\r\nThis message says nothing more on purpose: what it is about stays in Alliance.\r\n",
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nudge_says_nothing_but_sign_in() {
        let (subject, body) = nudge_email(Some("https://alliance.example.org/sign-in"));
        assert_eq!(subject, "Something in Alliance needs you");
        assert!(body.starts_with("Something in Alliance needs you. Sign in"));
        assert!(body.contains("https://alliance.example.org/sign-in"));
        let (_, bare) = nudge_email(None);
        assert!(!bare.contains("http"));
    }
}
