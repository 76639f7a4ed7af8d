//! A stand-in for AWS STS in the integration tests: it answers for whichever identity the
//! attestation's `X-Test-Caller` header names (and refuses those without one, as STS refuses a bad
//! signature). Everything snowgate checks before replaying is real; the e2e tests use moto's STS.

use async_trait::async_trait;
use snowgate::domain::wif_aws::{CallerIdentity, SignedRequest};
use snowgate::error::Result;

pub struct FakeSts;

#[async_trait]
impl CallerIdentity for FakeSts {
    async fn caller_arn(&self, request: &SignedRequest) -> Result<Option<String>> {
        Ok(request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-test-caller"))
            .map(|(_, v)| v.clone()))
    }
}
