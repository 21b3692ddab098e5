//! [`Exchange`]: the one shape of every network step.

use std::time::SystemTime;

use crate::Error;
use crate::drive::http::{Request, Response};
use crate::error::TransportError;

/// One network step: describe the HTTP request, then consume the HTTP response.
///
/// ```text
///   exchange.request() ──► Request ──► adapter (HTTP, no redirects, size cap, timeouts)
///                                              │
///   exchange.response(Response) ◄── Response ◄─┘   ──► Result<Output, Error>
/// ```
///
/// Token exchange, client credentials, refresh and userinfo are all `Exchange`s, so an adapter
/// implements `send(exchange)` once and every flow works through it. Exchanges own their data
/// (`Send + 'static`) and can be moved into tasks.
pub trait Exchange {
    /// What a successful step yields, e.g. a [`TokenSet`](crate::TokenSet).
    type Output;

    /// Describes the request to send. Pure: adapters may call it again to retry.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the request cannot be written as configured (a caller's
    /// parameter that the flow sets itself, a name a multipart body cannot carry). Nothing
    /// has been sent then.
    fn request(&self) -> Result<Request, Error>;

    /// Describes the request to send at `now`: what the [`SendDriver`](crate::drive::SendDriver)
    /// calls on each attempt. Steps whose request depends on the time (a JWT client
    /// assertion's `iat` and `exp`, RFC 7523) override it; by default it is
    /// [`request`](Self::request).
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    fn request_at(&self, now: SystemTime) -> Result<Request, Error> {
        let _ = now;
        self.request()
    }

    /// Consumes the step with the server's answer. Network input never panics; anything
    /// unusable becomes an [`Error`].
    ///
    /// # Errors
    ///
    /// [`Error::Server`] for an OAuth error from the server, [`Error::Response`] for an answer
    /// the protocol does not allow.
    fn response(self, response: Response) -> Result<Self::Output, Error>;

    /// A request whose answer this step needs before it can read `response`: the issuer's
    /// JWK set, when a token answer carries an ID token signed with a key the client's cached
    /// set lacks (at most once per 30 s) or the cached set is stale. The
    /// [`SendDriver`](crate::drive::SendDriver) sends it once, hands its answer to
    /// [`supplemented`](Self::supplemented), then calls [`response`](Self::response) with the
    /// answer it held; a caller driving a step by hand does the same. Default: none.
    fn supplement(&self, response: &Response) -> Option<Request> {
        let _ = response;
        None
    }

    /// The DPoP key this step proves possession of ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)),
    /// if any. The [`SendDriver`](crate::drive::SendDriver) then puts a fresh `DPoP` proof
    /// header on every attempt (with `ath` when the request carries
    /// `Authorization: DPoP <token>`), remembers the `DPoP-Nonce` of every answer, and sends
    /// once more when the server asks for a nonce. Default: none.
    #[cfg(feature = "oidc")]
    fn dpop(&self) -> Option<&crate::Dpop> {
        None
    }

    /// The answer to the [`supplement`](Self::supplement) request at `now`: the response
    /// whatever its status, or the transport's failure (a failed fetch leaves the cached keys
    /// as they were, and still counts for the once-per-30-s rule). Default: ignored.
    fn supplemented(&mut self, answer: Result<Response, TransportError>, now: SystemTime) {
        let _ = (answer, now);
    }
}

/// A prepared request is an exchange of its own: sent as it is (retried as its
/// [`RetryMode`](crate::RetryMode) allows), its answer handed back whatever the status. For
/// steps whose answer the caller reads itself, such as a device poll
/// ([`DevicePoll::handle`](crate::DevicePoll::handle)).
impl Exchange for Request {
    type Output = Response;

    fn request(&self) -> Result<Request, Error> {
        Ok(self.clone())
    }

    fn response(self, response: Response) -> Result<Response, Error> {
        Ok(response)
    }
}
