//! The renewal machine on virtual time: no threads, no sleeps. "Callers" are polls; a
//! renewal's I/O is whatever the test reports back.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::UNIX_EPOCH;

use super::*;
use crate::manage::lifecycle::TokenSource;
use crate::manage::store::{MemoryStore, TokenStore};
use crate::manage::{ManagedTransport, TokenKeeper, TokenManagerBuilder};
use crate::{Client, ErrorCode, RefreshToken, ServerError, TokenType};

fn client() -> Client {
    Client::builder("id")
        .client_secret("s")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn tokens(access: &str, expires: u64, refresh: Option<&str>) -> TokenSet {
    TokenSet::new(AccessToken::new(access), TokenType::Bearer)
        .with_expires_at(Some(at(expires)))
        .with_refresh_token(refresh.map(RefreshToken::new))
}

fn user(start: Option<TokenSet>) -> RenewalMachine {
    RenewalMachine::new(Lifecycle::new(client(), TokenSource::User), start)
}

fn client_credentials() -> RenewalMachine {
    let source = TokenSource::ClientCredentials {
        scope: "read".into(),
        params: Vec::new(),
    };
    RenewalMachine::new(Lifecycle::new(client(), source), None)
}

fn secret(token: &AccessToken) -> &str {
    token.expose_secret()
}

fn used(poll: Result<Poll, Error>) -> String {
    match poll {
        Ok(Poll::Use(token)) => secret(&token).to_owned(),
        other => panic!("expected a token, got {other:?}"),
    }
}

fn started(poll: Result<Poll, Error>) -> Renewal {
    match poll {
        Ok(Poll::Start(renewal)) => renewal,
        other => panic!("expected a renewal, got {other:?}"),
    }
}

fn waiting(poll: Result<Poll, Error>) -> Ticket {
    match poll {
        Ok(Poll::Wait(ticket)) => ticket,
        other => panic!("expected to wait, got {other:?}"),
    }
}

fn done(waited: Waited) -> Result<AccessToken, Error> {
    match waited {
        Waited::Done(outcome) => outcome,
        other => panic!("expected an outcome, got {other:?}"),
    }
}

fn landed(landing: Landing) -> Result<AccessToken, Error> {
    match landing {
        Landing::Done(outcome) => outcome,
        other => panic!("expected an outcome, got {other:?}"),
    }
}

/// Fetches `new` for `renewal` and saves it successfully.
fn land(machine: &mut RenewalMachine, renewal: &Renewal, new: TokenSet, now: SystemTime) {
    let Landing::Save(saving) = machine.fetched(renewal.ticket, Ok(new), now) else {
        panic!("fresh tokens are saved first");
    };
    assert!(machine.is_renewing(), "nobody sees them before the save");
    drop(saving);
    landed(machine.saved(renewal.ticket, Ok(()), now)).unwrap();
}

fn server(code: ErrorCode) -> Error {
    ServerError::new(code).into()
}

#[test]
fn a_thousand_callers_across_an_expiry_start_one_renewal() {
    let mut machine = user(Some(tokens("at-1", 1_000, Some("rt-1"))));
    // Before the skew (60 s): everyone uses the token, no renewal.
    for _ in 0..1_000 {
        assert_eq!(used(machine.poll(at(939), false)), "at-1");
    }
    // Across it: the first caller starts the one renewal; the other 999 wait for it.
    let renewal = started(machine.poll(at(941), false));
    assert!(matches!(
        &renewal.work,
        Work::Fetch(RenewalStep::Refresh(_))
    ));
    assert_eq!(renewal.delay, Duration::ZERO);
    let tickets: Vec<Ticket> = (0..999)
        .map(|_| waiting(machine.poll(at(941), false)))
        .collect();
    assert!(tickets.iter().all(|t| *t == renewal.ticket));
    assert!(matches!(machine.waited(renewal.ticket), Waited::Pending));
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 5_000, Some("rt-2")),
        at(942),
    );
    for ticket in tickets {
        assert_eq!(secret(&done(machine.waited(ticket)).unwrap()), "at-2");
    }
    assert_eq!(used(machine.poll(at(942), false)), "at-2");
    assert!(!machine.is_renewing());
}

#[test]
fn the_clock_crosses_the_skew_boundary() {
    let lifecycle = Lifecycle::new(client(), TokenSource::User).skew(Duration::from_secs(10));
    let mut machine = RenewalMachine::new(lifecycle, Some(tokens("at", 100, Some("rt"))));
    assert_eq!(used(machine.poll(at(89), false)), "at");
    assert!(machine.usable(at(89), false).is_some());
    assert!(machine.usable(at(90), false).is_none());
    let renewal = started(machine.poll(at(90), false));
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 3_690, Some("rt-2")),
        at(90),
    );
    // The new token counts from the same clock: fresh again, nothing more to renew.
    assert_eq!(used(machine.poll(at(91), false)), "at-2");
    assert_eq!(used(machine.poll(at(3_679), false)), "at-2");
    assert!(!machine.is_renewing());
    started(machine.poll(at(3_680), false));
}

#[test]
fn a_failure_is_shared_then_retried_after_a_backoff_on_the_same_clock() {
    let lifecycle = Lifecycle::new(client(), TokenSource::User)
        .backoff(Duration::from_secs(2), Duration::from_secs(8));
    let mut machine = RenewalMachine::new(lifecycle, Some(tokens("at-1", 100, Some("rt"))));
    let renewal = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    let Landing::Done(outcome) = machine.fetched(
        renewal.ticket,
        Err(server(ErrorCode::TemporarilyUnavailable)),
        at(100),
    ) else {
        panic!("a failure ends the renewal");
    };
    assert!(outcome.is_err());
    let shared = done(machine.waited(waiter)).unwrap_err();
    assert_eq!(shared, server(ErrorCode::TemporarilyUnavailable));
    assert_eq!(machine.failures(), 1);
    // The next renewal waits out the backoff (2 s from t=100), on the caller's clock.
    let second = started(machine.poll(at(101), false));
    assert_eq!(second.delay, Duration::from_secs(1));
    // It fails too: the backoff doubles (4 s from t=101).
    let _ = machine.fetched(second.ticket, Err(server(ErrorCode::ServerError)), at(101));
    let renewal = started(machine.poll(at(102), false));
    assert_eq!(renewal.delay, Duration::from_secs(3));
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 900, Some("rt")),
        at(105),
    );
    assert_eq!(machine.failures(), 0);
    assert_eq!(used(machine.poll(at(105), false)), "at-2");
}

#[test]
fn invalid_grant_means_reauthorize_for_every_waiter_until_new_tokens() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt"))));
    let renewal = started(machine.poll(at(100), false));
    let waiters: Vec<Ticket> = (0..100)
        .map(|_| waiting(machine.poll(at(100), false)))
        .collect();
    let _ = machine.fetched(
        renewal.ticket,
        Err(server(ErrorCode::InvalidGrant)),
        at(100),
    );
    for waiter in waiters {
        match done(machine.waited(waiter)) {
            Err(Error::Reauthorize(crate::ReauthorizeError::InvalidGrant(e))) => {
                assert_eq!(e.code, ErrorCode::InvalidGrant);
            }
            other => panic!("{other:?}"),
        }
    }
    // Every later call too, forced or not, with no renewal, until new tokens are handed in.
    for force in [false, true, false] {
        assert!(
            machine
                .poll(at(500), force)
                .unwrap_err()
                .is_reauthorization_required()
        );
        assert!(!machine.is_renewing());
    }
    let save = machine
        .replace(tokens("at-new", 9_000, Some("rt-new")), at(500))
        .unwrap();
    assert!(matches!(save.work, Work::Save(_)));
    assert_eq!(
        save.delay,
        Duration::ZERO,
        "a new authorization clears the backoff"
    );
    land(
        &mut machine,
        &save,
        tokens("at-new", 9_000, Some("rt-new")),
        at(500),
    );
    assert_eq!(used(machine.poll(at(501), false)), "at-new");
}

#[test]
fn a_client_credentials_grant_has_nobody_to_send_back() {
    let mut machine = client_credentials();
    let renewal = started(machine.poll(at(0), false));
    let _ = machine.fetched(renewal.ticket, Err(server(ErrorCode::InvalidGrant)), at(0));
    // Not a reauthorization: asked again after the backoff.
    assert!(matches!(
        started(machine.poll(at(10), false)).work,
        Work::Fetch(RenewalStep::ClientCredentials(_))
    ));
}

#[test]
fn no_refresh_token_means_reauthorize_without_a_renewal() {
    let mut machine = user(Some(tokens("at", 100, None)));
    assert_eq!(used(machine.poll(at(10), false)), "at");
    let error = machine.poll(at(100), false).unwrap_err();
    assert_eq!(
        error,
        Error::Reauthorize(crate::ReauthorizeError::NoRefreshToken)
    );
    assert!(!machine.is_renewing());
    let mut empty = user(None);
    assert_eq!(
        empty.poll(at(0), false).unwrap_err(),
        Error::Reauthorize(crate::ReauthorizeError::NoTokens)
    );
    assert!(!empty.is_renewing());
    // Tokens without a refresh token handed in (a login): used until they expire, then the
    // user is sent back, with no renewal.
    let save = empty.replace(tokens("at", 100, None), at(0)).unwrap();
    land(&mut empty, &save, tokens("at", 100, None), at(0));
    assert_eq!(used(empty.poll(at(1), false)), "at");
    assert_eq!(
        empty.poll(at(100), false).unwrap_err(),
        Error::Reauthorize(crate::ReauthorizeError::NoRefreshToken)
    );
    assert!(!empty.is_renewing());
}

#[test]
fn the_store_is_written_before_anyone_gets_the_new_token() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let Landing::Save(to_save) = machine.fetched(
        renewal.ticket,
        Ok(tokens("at-2", 900, Some("rt-2"))),
        at(100),
    ) else {
        panic!("save first");
    };
    assert_eq!(to_save.refresh_token().unwrap().expose_secret(), "rt-2");
    // While the save runs: the new token is nowhere to be had.
    assert_eq!(waiting(machine.poll(at(100), false)), renewal.ticket);
    assert_eq!(secret(machine.tokens().unwrap().access_token()), "at-1");
    assert!(machine.usable(at(100), false).is_none());
    assert_eq!(
        secret(&landed(machine.saved(renewal.ticket, Ok(()), at(100))).unwrap()),
        "at-2"
    );
}

#[test]
fn a_store_out_of_reach_is_saved_to_again_with_backoff_before_anyone_gets_the_token() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    let _ = machine.fetched(
        renewal.ticket,
        Ok(tokens("at-2", 900, Some("rt-2"))),
        at(100),
    );
    let gone = || StoreError::new("connection refused").transient();
    let mut now = at(100);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let Landing::SaveAgain { tokens, after } = machine.saved(renewal.ticket, Err(gone()), now)
        else {
            panic!("a passing failure is saved again");
        };
        assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "rt-2");
        // Meanwhile the new token is nowhere to be had, and the waiters wait.
        assert!(machine.usable(now, false).is_none());
        assert!(matches!(machine.waited(waiter), Waited::Pending));
        waits.push(after.as_millis());
        now += after;
    }
    assert_eq!(waits, [100, 200, 400, 800, 1600, 2000]);
    assert_eq!(
        secret(&landed(machine.saved(renewal.ticket, Ok(()), now)).unwrap()),
        "at-2"
    );
    assert_eq!(secret(&done(machine.waited(waiter)).unwrap()), "at-2");
}

#[test]
fn saving_again_ends_with_the_budget_and_never_for_a_refusal() {
    let lifecycle = Lifecycle::new(client(), TokenSource::User).save_retry(Duration::from_secs(1));
    let mut machine = RenewalMachine::new(lifecycle, Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let fresh = || Ok(tokens("at-2", 900, Some("rt-2")));
    let _ = machine.fetched(renewal.ticket, fresh(), at(100));
    let gone = || StoreError::new("timed out").transient();
    let mut now = at(100);
    let mut saves = 1;
    while let Landing::SaveAgain { after, .. } = machine.saved(renewal.ticket, Err(gone()), now) {
        now += after;
        saves += 1;
    }
    // 100 + 200 + 400 ms fit in the 1 s budget; the 800 ms wait would not.
    assert_eq!(saves, 4);
    assert!(matches!(
        machine.waited(renewal.ticket),
        Waited::Done(Err(Error::Store(_)))
    ));

    // A store that refused on purpose (a lost lease) is not asked again.
    let again = started(machine.poll(now + Duration::from_secs(5), false));
    let Work::Resave(tokens) = again.work else {
        panic!("the unsaved tokens are saved again first");
    };
    let _ = machine.fetched(again.ticket, Ok(tokens), now);
    let lost = StoreError::new("the lease was lost to another holder");
    assert!(matches!(
        machine.saved(again.ticket, Err(lost), now),
        Landing::Done(Err(Error::Store(_)))
    ));
}

#[test]
fn a_store_failure_is_shared_and_saved_again_without_another_refresh() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    let _ = machine.fetched(
        renewal.ticket,
        Ok(tokens("at-2", 900, Some("rt-2"))),
        at(100),
    );
    let refused = landed(machine.saved(renewal.ticket, Err(StoreError::new("disk full")), at(100)));
    assert!(matches!(refused, Err(Error::Store(_))));
    assert!(matches!(done(machine.waited(waiter)), Err(Error::Store(_))));
    // The rotated tokens are kept, but not handed out until they are saved.
    assert_eq!(secret(machine.tokens().unwrap().access_token()), "at-2");
    assert!(machine.usable(at(100), false).is_none());
    let again = started(machine.poll(at(200), false));
    let Work::Resave(tokens_again) = &again.work else {
        panic!(
            "the same tokens are saved again, not refreshed: {:?}",
            again.work
        );
    };
    assert_eq!(
        tokens_again.refresh_token().unwrap().expose_secret(),
        "rt-2"
    );
    let Work::Resave(tokens_again) = again.work else {
        unreachable!()
    };
    let ticket = again.ticket;
    let _ = machine.fetched(ticket, Ok(tokens_again), at(200));
    assert_eq!(
        secret(&landed(machine.saved(ticket, Ok(()), at(200))).unwrap()),
        "at-2"
    );
    assert_eq!(used(machine.poll(at(200), false)), "at-2");
}

#[test]
fn an_abandoned_renewal_is_taken_over_once_then_given_up() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let first = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    // The renewer died after the store saved rotated tokens.
    machine.abandoned(first.ticket, Some(tokens("at-2", 100, Some("rt-2"))));
    assert!(matches!(machine.waited(waiter), Waited::Again));
    // The waiter takes over, from what the store saved.
    let second = started(machine.poll(at(100), false));
    let Work::Fetch(RenewalStep::Refresh(step)) = &second.work else {
        panic!("{:?}", second.work);
    };
    let body = String::from_utf8(step.request().unwrap().body).unwrap();
    assert!(body.contains("refresh_token=rt-2"), "{body}");
    let late = waiting(machine.poll(at(100), false));
    machine.abandoned(second.ticket, None);
    // Twice in a row: an error, not a loop.
    assert!(done(machine.waited(late)).is_err());
    // A report from a dead renewer changes nothing.
    assert!(matches!(
        machine.fetched(first.ticket, Ok(tokens("x", 1, None)), at(100)),
        Landing::Done(Err(_))
    ));
    assert!(landed(machine.saved(first.ticket, Ok(()), at(100))).is_err());
    // A later caller starts afresh, and a landing resets the count.
    let third = started(machine.poll(at(100), false));
    land(
        &mut machine,
        &third,
        tokens("at-3", 900, Some("rt-3")),
        at(100),
    );
    assert_eq!(used(machine.poll(at(100), false)), "at-3");
}

#[test]
fn many_callers_reporting_the_same_401_cause_one_renewal() {
    let mut machine = user(Some(tokens("at-1", 10_000, Some("rt"))));
    let rejected = AccessToken::new("at-1");
    for _ in 0..100 {
        machine.invalidate(&rejected);
    }
    let renewal = started(machine.poll(at(0), false));
    for _ in 0..100 {
        assert_eq!(waiting(machine.poll(at(0), false)), renewal.ticket);
    }
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 10_000, Some("rt")),
        at(0),
    );
    // Late reports about the old token, and reports about a token never held, are ignored.
    machine.invalidate(&rejected);
    machine.invalidate(&AccessToken::new("unknown"));
    assert_eq!(used(machine.poll(at(1), false)), "at-2");
    assert!(!machine.is_renewing());
    // Forcing renews a token that is still valid.
    let forced = started(machine.poll(at(2), true));
    assert!(matches!(&forced.work, Work::Fetch(RenewalStep::Refresh(_))));
}

#[test]
fn force_joins_a_renewal_under_way() {
    let mut machine = user(Some(tokens("at-1", 10_000, Some("rt"))));
    let renewal = started(machine.poll(at(0), true));
    assert_eq!(waiting(machine.poll(at(0), true)), renewal.ticket);
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 10_000, Some("rt")),
        at(0),
    );
    assert_eq!(used(machine.poll(at(0), false)), "at-2");
}

#[test]
fn client_credentials_are_fetched_then_reused_then_fetched_again() {
    let mut machine = client_credentials();
    let first = started(machine.poll(at(0), false));
    let Work::Fetch(step) = &first.work else {
        panic!("{:?}", first.work);
    };
    let body = String::from_utf8(step.request().unwrap().body).unwrap();
    assert_eq!(body, "grant_type=client_credentials&scope=read");
    let waiters: Vec<Ticket> = (0..99)
        .map(|_| waiting(machine.poll(at(0), false)))
        .collect();
    land(&mut machine, &first, tokens("cc-1", 3_600, None), at(0));
    for waiter in waiters {
        assert_eq!(secret(&done(machine.waited(waiter)).unwrap()), "cc-1");
    }
    for s in [1, 1_000, 3_539] {
        assert_eq!(used(machine.poll(at(s), false)), "cc-1");
    }
    let second = started(machine.poll(at(3_540), false));
    assert!(matches!(
        second.work,
        Work::Fetch(RenewalStep::ClientCredentials(_))
    ));
}

#[test]
fn replacing_waits_for_a_renewal_under_way() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt"))));
    let renewal = started(machine.poll(at(100), false));
    let ticket = machine
        .replace(tokens("at-new", 900, None), at(100))
        .unwrap_err();
    assert_eq!(ticket, renewal.ticket);
    land(
        &mut machine,
        &renewal,
        tokens("at-2", 900, Some("rt")),
        at(100),
    );
    let save = machine
        .replace(tokens("at-new", 900, None), at(100))
        .unwrap();
    land(&mut machine, &save, tokens("at-new", 900, None), at(100));
    assert_eq!(used(machine.poll(at(100), false)), "at-new");
}

#[test]
fn a_waiter_whose_renewal_was_superseded_polls_again() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt"))));
    let first = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    land(
        &mut machine,
        &first,
        tokens("at-2", 100, Some("rt")),
        at(100),
    );
    let second = started(machine.poll(at(200), false));
    land(
        &mut machine,
        &second,
        tokens("at-3", 900, Some("rt")),
        at(200),
    );
    assert!(matches!(machine.waited(waiter), Waited::Again));
}

/// What a fast path may cache agrees with `usable` at every step: a token with its deadline
/// while it is good, nothing once it is rejected, unsaved or only a new authorization helps.
#[test]
fn usable_until_agrees_with_usable() {
    let agree = |machine: &RenewalMachine, now: SystemTime| {
        let cached = machine
            .usable_until()
            .filter(|(_, until)| until.is_none_or(|until| now < until))
            .map(|(token, _)| token.expose_secret().to_owned());
        let usable = machine
            .usable(now, false)
            .map(|t| t.expose_secret().to_owned());
        assert_eq!(cached, usable, "at {now:?}");
    };
    let mut machine = user(Some(tokens("at-1", 1_000, Some("rt"))));
    for s in [0, 939, 940, 941, 2_000] {
        agree(&machine, at(s));
    }
    assert_eq!(machine.usable_until().unwrap().1, Some(at(940)));
    machine.invalidate(&AccessToken::new("at-1"));
    agree(&machine, at(0));
    let renewal = started(machine.poll(at(0), false));
    let _ = machine.fetched(renewal.ticket, Ok(tokens("at-2", 1_000, Some("rt"))), at(0));
    let _ = machine.saved(renewal.ticket, Err(StoreError::new("full")), at(0));
    agree(&machine, at(0));
    assert!(machine.usable_until().is_none(), "unsaved");
    let again = started(machine.poll(at(0), false));
    let Work::Resave(unsaved) = again.work else {
        panic!("saved again")
    };
    let _ = machine.fetched(again.ticket, Ok(unsaved), at(0));
    landed(machine.saved(again.ticket, Ok(()), at(0))).unwrap();
    agree(&machine, at(0));
    let forced = started(machine.poll(at(0), true));
    let _ = machine.fetched(forced.ticket, Err(server(ErrorCode::InvalidGrant)), at(0));
    agree(&machine, at(0));
    assert!(machine.usable_until().is_none(), "reauthorize");
    let unknown = user(Some(TokenSet::new(
        AccessToken::new("u"),
        TokenType::Bearer,
    )));
    assert_eq!(unknown.usable_until().unwrap().1, None);
    agree(&unknown, at(u32::MAX.into()));
}

#[test]
fn a_503_is_shared_by_every_waiter_then_their_retries_share_one_renewal() {
    let lifecycle = Lifecycle::new(client(), TokenSource::User)
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let mut machine = RenewalMachine::new(lifecycle, Some(tokens("at-1", 100, Some("rt"))));
    let now = at(100);
    let renewal = started(machine.poll(now, false));
    let waiters: Vec<Ticket> = (0..49).map(|_| waiting(machine.poll(now, false))).collect();
    let unavailable = Some(&ErrorCode::TemporarilyUnavailable);
    let failed = server(ErrorCode::TemporarilyUnavailable);
    let Landing::Done(Err(error)) = machine.fetched(renewal.ticket, Err(failed), now) else {
        panic!("a 503 ends the renewal");
    };
    assert_eq!(error.server_code(), unavailable);
    for waiter in &waiters {
        let shared = done(machine.waited(*waiter)).unwrap_err();
        assert_eq!(shared.server_code(), unavailable);
    }
    // All fifty ask again at once: one renewal, after the backoff; the others wait for it.
    let retry = started(machine.poll(now, false));
    assert_eq!(retry.delay, Duration::from_millis(50));
    let again: Vec<Ticket> = (0..49).map(|_| waiting(machine.poll(now, false))).collect();
    assert!(again.iter().all(|ticket| *ticket == retry.ticket));
    let later = now + retry.delay;
    land(
        &mut machine,
        &retry,
        tokens("at-2", 5_000, Some("rt")),
        later,
    );
    for ticket in again {
        assert_eq!(secret(&done(machine.waited(ticket)).unwrap()), "at-2");
    }
    assert_eq!(machine.failures(), 0);
    assert_eq!(used(machine.poll(later, false)), "at-2");
}

#[test]
fn a_renewal_that_keeps_dying_ends_in_an_error_not_a_loop() {
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    // The caller starts the renewal and waits for it, as the async manager does; the renewer
    // dies, and the store has nothing newer to take over with.
    let first = started(machine.poll(at(100), false));
    machine.abandoned(first.ticket, None);
    assert!(matches!(machine.waited(first.ticket), Waited::Again));
    // The caller takes over: a second refresh, which dies too.
    let second = started(machine.poll(at(100), false));
    assert!(matches!(&second.work, Work::Fetch(RenewalStep::Refresh(_))));
    machine.abandoned(second.ticket, None);
    let error = done(machine.waited(second.ticket)).unwrap_err();
    assert!(error.to_string().contains("abandoned twice"), "{error}");
    assert!(!machine.is_renewing());
}

/// A transport whose manager is the bare [`TokenKeeper`], driven here as an adapter drives it.
struct Bare;

impl ManagedTransport for Bare {
    type Manager = Arc<TokenKeeper>;

    fn manage(self, keeper: TokenKeeper) -> Arc<TokenKeeper> {
        Arc::new(keeper)
    }
}

/// A store that logs every save, in one log with whatever the test notes.
#[derive(Clone, Default)]
struct Logged {
    log: Arc<Mutex<Vec<String>>>,
    held: Arc<Mutex<Option<TokenSet>>>,
}

impl Logged {
    fn note(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn held(&self) -> Option<String> {
        let held = self.held.lock().unwrap();
        held.as_ref().map(|t| secret(t.access_token()).to_owned())
    }
}

impl TokenStore for Logged {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.held.lock().unwrap().clone())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        *self.held.lock().unwrap() = Some(tokens.clone());
        self.note(format!("saved {}", secret(tokens.access_token())));
        Ok(())
    }
}

#[test]
fn the_store_then_on_refresh_are_told_before_any_caller_gets_the_token() {
    let store = Logged::default();
    let (hook_store, keeper_cell) = (
        store.clone(),
        Arc::new(OnceLock::<Weak<TokenKeeper>>::new()),
    );
    let hook_keeper = Arc::clone(&keeper_cell);
    let keeper = TokenManagerBuilder::new(Bare, Lifecycle::new(client(), TokenSource::User))
        .tokens(tokens("at-1", 100, Some("rt-1")))
        .store(store.clone())
        .on_refresh(move |new| {
            let new = secret(new.access_token()).to_owned();
            // Saved already; handed to nobody yet.
            assert_eq!(hook_store.held().as_deref(), Some(new.as_str()));
            let keeper = hook_keeper.get().and_then(Weak::upgrade).unwrap();
            let machine = keeper.lock();
            assert!(machine.is_renewing());
            assert!(machine.usable(at(100), false).is_none());
            hook_store.note(format!("on_refresh {new}"));
        })
        .build()
        .unwrap();
    keeper_cell.set(Arc::downgrade(&keeper)).unwrap();
    assert_eq!(
        store.log(),
        ["saved at-1"],
        "build saves the tokens it is given"
    );

    let renewal = started(keeper.lock().poll(at(100), false));
    let waiters: Vec<Ticket> = (0..19)
        .map(|_| waiting(keeper.lock().poll(at(100), false)))
        .collect();
    let fetched = Ok(tokens("at-2", 900, Some("rt-2")));
    let Landing::Save(new) = keeper.lock().fetched(renewal.ticket, fetched, at(100)) else {
        panic!("fresh tokens are saved first");
    };
    // As the adapters do: save with no lock held, then report.
    let saved = keeper.store().save(&new);
    assert!(matches!(keeper.lock().waited(waiters[0]), Waited::Pending));
    let mut handed = vec![landed(keeper.saved(renewal.ticket, &new, saved, at(100))).unwrap()];
    handed.extend(
        waiters
            .iter()
            .map(|w| done(keeper.lock().waited(*w)).unwrap()),
    );
    for token in &handed {
        store.note(format!("returned {}", secret(token)));
    }
    let log = store.log();
    assert_eq!(log[..3], ["saved at-1", "saved at-2", "on_refresh at-2"]);
    assert_eq!(log.len(), 23, "{log:?}");
    assert!(
        log[3..].iter().all(|entry| entry == "returned at-2"),
        "{log:?}"
    );
}

#[test]
fn a_renewer_panicking_after_the_save_is_taken_over_with_the_saved_token() {
    let store = MemoryStore::new();
    let keeper = TokenManagerBuilder::new(Bare, Lifecycle::new(client(), TokenSource::User))
        .tokens(tokens("at-1", 100, Some("rt-1")))
        .store(store.clone())
        .on_refresh(|_| panic!("callback failed"))
        .build()
        .unwrap();
    let renewal = started(keeper.lock().poll(at(100), false));
    let waiters: Vec<Ticket> = (0..19)
        .map(|_| waiting(keeper.lock().poll(at(100), false)))
        .collect();
    let fetched = Ok(tokens("at-2", 900, Some("rt-2")));
    let Landing::Save(new) = keeper.lock().fetched(renewal.ticket, fetched, at(100)) else {
        panic!("fresh tokens are saved first");
    };
    let saved = keeper.store().save(&new);
    let report = catch_unwind(AssertUnwindSafe(|| {
        landed(keeper.saved(renewal.ticket, &new, saved, at(100)))
    }));
    assert!(report.is_err(), "the callback panicked");
    // The renewer's guard reports the renewal abandoned as it unwinds (both adapters do).
    keeper.abandoned(renewal.ticket);
    assert!(!keeper.lock().is_renewing());
    // Every waiter polls again and takes up what the store saved: no second renewal.
    for waiter in waiters {
        assert!(matches!(keeper.lock().waited(waiter), Waited::Again));
        assert_eq!(used(keeper.lock().poll(at(100), false)), "at-2");
    }
    assert!(!keeper.lock().is_renewing());
    assert_eq!(
        secret(store.get().unwrap().access_token()),
        "at-2",
        "the rotated tokens stay saved"
    );
}

fn fetch_step(renewal: Renewal) -> RenewalStep {
    match renewal.work {
        Work::Fetch(step) => step,
        other => panic!("expected a fetch, got {other:?}"),
    }
}

fn refresh_body(step: &RenewalStep) -> String {
    String::from_utf8(step.request().unwrap().body).unwrap()
}

/// With the store's lease held, the store is read again: the same tokens mean the planned
/// refresh goes out; another process's usable tokens are adopted without a request; its
/// expired ones are refreshed from their own (rotated) refresh token, never from ours.
#[test]
fn a_leased_renewal_adopts_or_follows_what_another_process_saved() {
    // The store holds what we started from: the planned step goes out.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let ticket = renewal.ticket;
    let step = fetch_step(renewal);
    let same = Some(tokens("at-1", 100, Some("rt-1")));
    let Leased::Fetch(step) = machine.leased(ticket, Work::Fetch(step), same, at(100)) else {
        panic!("the planned refresh");
    };
    assert!(refresh_body(&step).contains("refresh_token=rt-1"));

    // Another process renewed meanwhile: its fresh tokens are adopted, nothing is sent.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(100), false));
    let waiter = waiting(machine.poll(at(100), false));
    let ticket = renewal.ticket;
    let theirs = Some(tokens("at-2", 5_000, Some("rt-2")));
    match machine.leased(ticket, Work::Fetch(fetch_step(renewal)), theirs, at(100)) {
        Leased::Done(Ok(token)) => assert_eq!(secret(&token), "at-2"),
        other => panic!("adopted, got {other:?}"),
    }
    assert_eq!(secret(&done(machine.waited(waiter)).unwrap()), "at-2");
    assert_eq!(used(machine.poll(at(101), false)), "at-2");
    assert!(!machine.is_renewing());

    // Theirs has expired too: refresh with their refresh token, not our rotated one.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(1_000), false));
    let ticket = renewal.ticket;
    let stale_theirs = Some(tokens("at-2", 900, Some("rt-2")));
    let Leased::Fetch(step) = machine.leased(
        ticket,
        Work::Fetch(fetch_step(renewal)),
        stale_theirs,
        at(1_000),
    ) else {
        panic!("a refresh from the stored token");
    };
    assert!(
        refresh_body(&step).contains("refresh_token=rt-2"),
        "{}",
        refresh_body(&step)
    );
    let _ = machine.fetched(ticket, Ok(tokens("at-3", 9_000, Some("rt-3"))), at(1_000));
    landed(machine.saved(ticket, Ok(()), at(1_000))).unwrap();
    assert_eq!(used(machine.poll(at(1_001), false)), "at-3");

    // Theirs expired and cannot be refreshed: only a new login helps.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let renewal = started(machine.poll(at(1_000), false));
    let ticket = renewal.ticket;
    let dead = Some(tokens("at-2", 900, None));
    match machine.leased(ticket, Work::Fetch(fetch_step(renewal)), dead, at(1_000)) {
        Leased::Done(Err(error)) => assert!(error.is_reauthorization_required()),
        other => panic!("{other:?}"),
    }

    // A lease for a renewal that is over changes nothing.
    let step = RenewalStep::Refresh(client().refresh(&RefreshToken::new("r")).unwrap());
    assert!(matches!(
        machine.leased(ticket, Work::Fetch(step), None, at(0)),
        Leased::Done(Err(_))
    ));
}

/// Tokens the store refused are saved again under the lease, after reading the store: when it
/// still holds what they were made from, they are saved; when another process saved a newer
/// set meanwhile (it took the lease over), that set wins and ours is never written over it.
#[test]
fn a_refused_save_is_retried_under_the_lease_and_never_overwrites_a_newer_set() {
    let refused = |machine: &mut RenewalMachine| {
        let renewal = started(machine.poll(at(100), false));
        let _ = machine.fetched(
            renewal.ticket,
            Ok(tokens("at-2", 900, Some("rt-2"))),
            at(100),
        );
        let lost = StoreError::new("the lease was lost to another holder");
        assert!(landed(machine.saved(renewal.ticket, Err(lost), at(100))).is_err());
        started(machine.poll(at(101), false))
    };

    // The store still holds what at-2 was refreshed from: at-2 is saved.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let again = refused(&mut machine);
    let ticket = again.ticket;
    let base = Some(tokens("at-1", 100, Some("rt-1")));
    let Leased::Save(ours) = machine.leased(ticket, again.work, base, at(101)) else {
        panic!("ours is the newest");
    };
    assert_eq!(ours.access_token().expose_secret(), "at-2");

    // Another process saved a newer set meanwhile: it is adopted, ours is dropped.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let again = refused(&mut machine);
    let theirs = Some(tokens("at-9", 5_000, Some("rt-9")));
    match machine.leased(again.ticket, again.work, theirs, at(101)) {
        Leased::Done(Ok(token)) => assert_eq!(secret(&token), "at-9"),
        other => panic!("theirs wins, got {other:?}"),
    }
    assert_eq!(used(machine.poll(at(102), false)), "at-9");

    // Nothing in the store at all: ours is saved.
    let mut machine = user(Some(tokens("at-1", 100, Some("rt-1"))));
    let again = refused(&mut machine);
    assert!(matches!(
        machine.leased(again.ticket, again.work, None, at(101)),
        Leased::Save(_)
    ));
}
