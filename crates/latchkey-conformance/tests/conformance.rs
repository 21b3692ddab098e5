//! The conformance suite, stamped out once per adapter: `ureq::<case>` and `reqwest::<case>`.

/// Declares one test per case for a driver, plus a check that the list below is complete.
macro_rules! suite {
    ($adapter:ident: $driver:ty; $($case:ident),+ $(,)?) => {
        mod $adapter {
            $(
                #[test]
                fn $case() {
                    latchkey_conformance::cases::$case::<$driver>();
                }
            )+

            #[test]
            fn every_case_is_stamped() {
                assert_eq!(&[$(stringify!($case)),+], latchkey_conformance::cases::ALL);
            }
        }
    };
}

/// Every case, for every adapter.
macro_rules! conformance {
    ($($adapter:ident: $driver:ty),+ $(,)?) => {
        $(
            suite! {
                $adapter: $driver;
                code_pkce_public_form,
                code_confidential_basic,
                code_post_json_audience,
                code_multipart_doorkeeper,
                code_clerk_style,
                implicit_fragment_then_userinfo,
                client_credentials_basic,
                client_credentials_post_json_audience,
                client_credentials_multipart_doorkeeper,
                dialect_mismatch_is_server_error,
                refresh_without_rotation,
                refresh_with_rotation,
                userinfo_valid,
                userinfo_invalid_token,
                redirect_is_not_followed,
                oversized_body_is_refused,
                content_length_over_cap_is_refused_at_once,
                slow_server_times_out,
                retry_after_503_is_retried_when_idempotent,
                retry_after_503_is_not_retried_for_code,
                retry_429_with_http_date,
                html_error_page_is_unexpected,
                echoed_secret_is_masked_in_every_spelling,
                error_with_200_is_server_error,
                insecure_http_is_refused,
                connection_refused_is_connect,
                connect_failure_is_retried_for_code,
                dropped_connection_is_other,
                execute_sends_one_request,
                headers_and_body_arrive_as_sent,
                an_invalid_header_is_refused_before_sending,
                transport_is_cheap_clone_debug_send_sync,
                manager_execute_sends_the_bearer_token,
                manager_execute_renews_once_and_retries_once_after_invalid_token,
                manager_execute_retries_only_once,
                manager_execute_returns_other_answers_as_they_are,
                manager_execute_never_sends_the_token_to_another_origin,
                manager_execute_never_follows_a_redirect_with_the_token,
                the_store_is_written_before_any_caller_gets_the_token,
                a_panicking_renewer_wedges_nobody,
                reauthorize_until_set_tokens,
                manager_is_clone_send_sync_debug_without_secrets,
                discovery_at_both_well_known_paths_with_an_exact_issuer,
                device_flow_polls_until_the_user_approves,
                device_flow_denied_or_expired,
                device_flow_slows_down_when_told,
                revocation_then_introspection,
                pushed_authorization_with_iss_checked,
                token_exchange_and_resource_indicators,
                dpop_code_refresh_and_userinfo_are_bound_to_the_key,
                dpop_client_credentials_answers_the_nonce_challenge_once,
                dpop_downgrade_to_bearer_is_refused,
                dpop_replayed_proof_is_refused,
                jwt_client_authentication_at_token_revocation_and_introspection,
                replayed_expired_or_misaddressed_assertions_are_refused,
                dpop_with_private_key_jwt_at_par_and_device_under_a_nonce,
            }
        )+
    };
}

conformance! {
    ureq: latchkey_conformance::Ureq,
    reqwest: latchkey_conformance::Reqwest,
}
