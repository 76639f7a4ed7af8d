//! The checks a password policy makes of a new password, and the lockout it sets. Each check is one
//! pass over the password (whose size the SQL limits already bound), and a refusal names the rule,
//! never the password.

use crate::domain::policy::PasswordPolicy;

/// PASSWORD_HISTORY's maximum in Snowflake: at most this many old hashes are kept and compared.
pub const MAX_HISTORY: u32 = 24;

const DAY: u64 = 86_400;

/// The rule of `policy` that `password` breaks (its message), or `None`.
pub fn broken_rule(policy: &PasswordPolicy, password: &str) -> Option<String> {
    let mut counts = Counts::default();
    for c in password.chars() {
        counts.length += 1;
        if c.is_uppercase() {
            counts.upper += 1;
        } else if c.is_lowercase() {
            counts.lower += 1;
        } else if c.is_numeric() {
            counts.numeric += 1;
        } else if !c.is_alphanumeric() {
            counts.special += 1;
        }
    }
    let at_least = [
        (
            counts.length,
            policy.password_min_length,
            "characters",
            "PASSWORD_MIN_LENGTH",
        ),
        (
            counts.upper,
            policy.password_min_upper_case_chars,
            "upper-case characters",
            "PASSWORD_MIN_UPPER_CASE_CHARS",
        ),
        (
            counts.lower,
            policy.password_min_lower_case_chars,
            "lower-case characters",
            "PASSWORD_MIN_LOWER_CASE_CHARS",
        ),
        (
            counts.numeric,
            policy.password_min_numeric_chars,
            "numeric characters",
            "PASSWORD_MIN_NUMERIC_CHARS",
        ),
        (
            counts.special,
            policy.password_min_special_chars,
            "special characters",
            "PASSWORD_MIN_SPECIAL_CHARS",
        ),
    ];
    if let Some((_, min, what, rule)) = at_least.iter().find(|(n, min, ..)| n < min) {
        return Some(refusal(format!("at least {min} {what} ({rule} = {min})")));
    }
    if policy.password_max_length > 0 && counts.length > policy.password_max_length {
        let max = policy.password_max_length;
        return Some(refusal(format!(
            "at most {max} characters (PASSWORD_MAX_LENGTH = {max})"
        )));
    }
    None
}

#[derive(Default)]
struct Counts {
    length: u32,
    upper: u32,
    lower: u32,
    numeric: u32,
    special: u32,
}

fn refusal(rule: String) -> String {
    format!("Password does not meet password policy requirements: the password must have {rule}.")
}

/// The refusal of a password that is one of the last `history` passwords.
pub fn reused(history: u32) -> String {
    format!(
        "Password does not meet password policy requirements: the password must differ from the last {history} passwords (PASSWORD_HISTORY = {history})."
    )
}

/// How many of the user's previous hashes (besides the current one) the policy compares and keeps.
pub fn previous_kept(policy: Option<&PasswordPolicy>) -> usize {
    let history = policy.map_or(0, |p| p.password_history.min(MAX_HISTORY));
    history.saturating_sub(1) as usize
}

/// The refusal of a user changing their own password less than PASSWORD_MIN_AGE_DAYS after the last
/// change, or `None`.
pub fn too_soon(policy: &PasswordPolicy, set_at: u64, now: u64) -> Option<String> {
    let days = u64::from(policy.password_min_age_days);
    (days > 0 && set_at > 0 && now < set_at.saturating_add(days * DAY)).then(|| {
        format!(
            "Password cannot be changed yet: it was set less than {days} days ago (PASSWORD_MIN_AGE_DAYS = {days})."
        )
    })
}

/// Whether a password set at `set_at` has outlived PASSWORD_MAX_AGE_DAYS (0: never expires). A
/// password set before the time was recorded (0) does not expire.
pub fn expired(policy: &PasswordPolicy, set_at: u64, now: u64) -> bool {
    let days = u64::from(policy.password_max_age_days);
    days > 0 && set_at > 0 && now >= set_at.saturating_add(days * DAY)
}

/// Failed logins allowed and the lock's length in seconds: the policy's, else the settings'.
pub fn lockout(policy: Option<&PasswordPolicy>, failures: u32, seconds: u64) -> (u32, u64) {
    match policy {
        Some(p) => (
            p.password_max_retries.max(1),
            u64::from(p.password_lockout_time_mins) * 60,
        ),
        None => (failures, seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy {
            password_min_length: 8,
            password_max_length: 12,
            password_min_upper_case_chars: 1,
            password_min_lower_case_chars: 2,
            password_min_numeric_chars: 1,
            password_min_special_chars: 1,
            ..PasswordPolicy::default()
        }
    }

    #[test]
    fn each_rule_refuses_exactly_what_it_should() {
        let p = policy();
        assert_eq!(broken_rule(&p, "Abcdef1!"), None);
        assert_eq!(broken_rule(&p, "Abcdefgh12!x"), None);
        let rule = |pw: &str| broken_rule(&p, pw).unwrap();
        assert!(rule("Abcde1!").contains("PASSWORD_MIN_LENGTH = 8"));
        assert!(rule("Abcdefgh123!x").contains("PASSWORD_MAX_LENGTH = 12"));
        assert!(rule("abcdef1!").contains("PASSWORD_MIN_UPPER_CASE_CHARS = 1"));
        assert!(rule("ABCDEf1!").contains("PASSWORD_MIN_LOWER_CASE_CHARS = 2"));
        assert!(rule("Abcdefg!").contains("PASSWORD_MIN_NUMERIC_CHARS = 1"));
        assert!(rule("Abcdefg1").contains("PASSWORD_MIN_SPECIAL_CHARS = 1"));
        // Characters, not bytes; a space is special.
        assert_eq!(broken_rule(&p, "Äbcdéf1 "), None);
        assert!(
            !rule("Abcde1!").contains("Abcde1!"),
            "the password is never shown"
        );
    }

    #[test]
    fn ages_and_lockout() {
        let p = PasswordPolicy {
            password_min_age_days: 1,
            password_max_age_days: 90,
            ..PasswordPolicy::default()
        };
        assert!(too_soon(&p, 1000, 1000 + DAY - 1).is_some());
        assert!(too_soon(&p, 1000, 1000 + DAY).is_none());
        assert!(too_soon(&p, 0, 5).is_none());
        assert!(!expired(&p, 1000, 1000 + 90 * DAY - 1));
        assert!(expired(&p, 1000, 1000 + 90 * DAY));
        assert!(!expired(&p, 0, u64::MAX));
        let never = PasswordPolicy {
            password_max_age_days: 0,
            ..p.clone()
        };
        assert!(!expired(&never, 1, u64::MAX));
        assert_eq!(lockout(Some(&p), 9, 9), (5, 15 * 60));
        assert_eq!(lockout(None, 9, 60), (9, 60));
        assert_eq!(previous_kept(None), 0);
        assert_eq!(previous_kept(Some(&p)), 4);
    }

    #[test]
    fn checks_stay_linear_on_huge_passwords() {
        // A megabyte of text is one pass per check; nothing quadratic.
        let huge = "aA1!".repeat(256 * 1024);
        let p = PasswordPolicy {
            password_max_length: 0,
            ..policy()
        };
        assert_eq!(broken_rule(&p, &huge), None);
        assert!(
            broken_rule(&policy(), &huge)
                .unwrap()
                .contains("MAX_LENGTH")
        );
    }
}
