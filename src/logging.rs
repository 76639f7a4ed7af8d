//! Log set-up: JSON lines inside Lambda (CloudWatch parses them), readable text locally. `RUST_LOG`
//! overrides the default level, but never past two guarantees that hold at every level:
//! - crates that would print statement text, request bodies or wire traffic (sqlparser, hyper, the
//!   AWS SDK, the Lambda runtime) are capped, whatever `RUST_LOG` says;
//! - one event is one line: control characters a client slipped into a logged string are escaped.
//!
//! Nothing secret is ever a field: see the handlers and the domain.

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt::MakeWriter};

/// The most verbose level each third-party crate may log at. sqlparser prints the tokens of what it
/// parses at debug; hyper, h2 and the AWS SDK print headers and bodies at debug/trace; the Lambda
/// runtime prints whole events.
const CAPS: &[(&str, Level)] = &[
    ("sqlparser", Level::WARN),
    ("hyper", Level::INFO),
    ("hyper_util", Level::INFO),
    ("h2", Level::INFO),
    ("tower_http", Level::DEBUG),
    ("aws_smithy_runtime", Level::INFO),
    ("aws_smithy_runtime_api", Level::INFO),
    ("aws_smithy_http", Level::INFO),
    ("aws_smithy_http_client", Level::INFO),
    ("aws_smithy_types", Level::INFO),
    ("aws_sdk_dynamodb", Level::INFO),
    ("aws_sdk_secretsmanager", Level::INFO),
    ("aws_sdk_sts", Level::INFO),
    ("aws_sdk_sso", Level::INFO),
    ("aws_config", Level::INFO),
    ("aws_runtime", Level::INFO),
    // SigV4 prints canonical requests (headers, payload hashes) at trace.
    ("aws_sigv4", Level::INFO),
    ("aws_credential_types", Level::INFO),
    ("aws_smithy_async", Level::INFO),
    ("aws_smithy_json", Level::INFO),
    ("aws_smithy_query", Level::INFO),
    ("aws_smithy_observability", Level::INFO),
    ("lambda_runtime", Level::INFO),
    ("lambda_runtime_api_client", Level::INFO),
    ("lambda_http", Level::INFO),
    ("rustls", Level::INFO),
    ("reqwest", Level::INFO),
];

pub fn init(json: bool) {
    let rust_log = std::env::var("RUST_LOG").ok();
    // `try_init` so a second call (tests) is harmless; it also routes `log` records (sqlparser).
    let _ = tracing_subscriber::registry()
        .with(layer(json, rust_log.as_deref(), io::stderr))
        .try_init();
}

/// The one formatting layer: `rust_log` (default `info`) AND the caps, writing escaped
/// lines to `writer`. Public so tests can capture what would be logged.
pub fn layer<S, W>(
    json: bool,
    rust_log: Option<&str>,
    writer: W,
) -> Box<dyn Layer<S> + Send + Sync + 'static>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = env_filter(rust_log).and(ThirdPartyCaps);
    let writer = OneLine(writer);
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    if json {
        fmt.json()
            .with_current_span(true)
            .without_time()
            .with_filter(filter)
            .boxed()
    } else {
        // Colour codes are control characters: they would be escaped like a client's.
        fmt.compact().with_ansi(false).with_filter(filter).boxed()
    }
}

/// The user's filter, `info` when unset or unreadable.
fn env_filter(rust_log: Option<&str>) -> EnvFilter {
    rust_log
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// The caps as a filter of their own, AND-ed with the user's. Not directives appended to `RUST_LOG`:
/// those would raise a capped crate above a quieter user level, and a more specific target or a
/// span directive (`[request]=trace`) would still beat them. This can only lower a level.
struct ThirdPartyCaps;

impl ThirdPartyCaps {
    fn allows(meta: &Metadata<'_>) -> bool {
        let target = meta.target();
        CAPS.iter()
            .find(|(name, _)| {
                target
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
            .is_none_or(|(_, cap)| LevelFilter::from_level(*cap) >= *meta.level())
    }
}

impl<S> Filter<S> for ThirdPartyCaps {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        Self::allows(meta)
    }

    /// Events from the `log` crate all share the target `log`; their real target is only known here.
    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        match event.normalized_metadata() {
            Some(meta) => Self::allows(&meta),
            None => Self::allows(event.metadata()),
        }
    }
}

/// Writes each formatted event with every control character escaped except the final newline, so a
/// user name or path holding `\n` cannot forge a second line.
struct OneLine<W>(W);

impl<'w, W: MakeWriter<'w>> MakeWriter<'w> for OneLine<W> {
    type Writer = OneLineWriter<W::Writer>;

    fn make_writer(&'w self) -> Self::Writer {
        OneLineWriter(self.0.make_writer())
    }
}

pub struct OneLineWriter<W>(W);

impl<W: Write> Write for OneLineWriter<W> {
    /// The formatter hands over a whole event in one call, ending in its newline.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (body, end) = match buf.split_last() {
            Some((b'\n', body)) => (body, &b"\n"[..]),
            _ => (buf, &b""[..]),
        };
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in body {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                _ => out.push(b),
            }
        }
        out.extend_from_slice(end);
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A client address as a log field: `127.0.0.1` (IPv4-mapped addresses unwrapped), or `-`.
pub struct ShowIp(pub Option<IpAddr>);

impl fmt::Display for ShowIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{}", crate::domain::directory::canonical_ip(ip)),
            None => f.write_str("-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_is_one_line() {
        let mut out = Vec::new();
        let mut w = OneLineWriter(&mut out);
        w.write_all(b"user=alice\nINFO forged\r\x1b[31m\tend\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "user=alice\\nINFO forged\\r\\x1b[31m\\tend\n"
        );
    }

    #[test]
    fn caps_hold_for_nested_targets_only() {
        let allows = |target: &'static str, level: Level| {
            let meta = Metadata::new(
                "e",
                target,
                level,
                None,
                None,
                None,
                tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
                tracing::metadata::Kind::EVENT,
            );
            ThirdPartyCaps::allows(&meta)
        };
        assert!(!allows("sqlparser::parser", Level::DEBUG));
        assert!(allows("sqlparser::parser", Level::WARN));
        assert!(!allows("hyper", Level::TRACE));
        assert!(allows("hyperion", Level::TRACE));
        assert!(allows("snowgate::http", Level::TRACE));
    }

    struct Cs;
    static CALLSITE: Cs = Cs;
    impl tracing::callsite::Callsite for Cs {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            unimplemented!()
        }
    }

    #[test]
    fn ips_are_plain() {
        assert_eq!(ShowIp(None).to_string(), "-");
        assert_eq!(
            ShowIp(Some("::ffff:10.0.0.1".parse().unwrap())).to_string(),
            "10.0.0.1"
        );
    }
}
