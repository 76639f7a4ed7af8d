//! The SQL front end: any text a session sends as `sqlText` parses to a statement or a rejection,
//! never a panic or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|sql: &str| {
    let _ = snowgate::sql::parse_statement(sql);
});
