"""The start-up fix to msrest's retry policy keeps exactly the same retry codes."""

from msrest.universal_http.requests import ClientRetryPolicy

from teams import msrest_fix

# msrest 0.7.1's own definition, spelled out: retry 408, and 500-998 but 501 and 505
ORIGINAL = [i for i in range(999) if i not in ([i for i in range(500) if i != 408] + [501, 505])]


def test_the_retry_policy_retries_the_same_codes_after_the_speedup():
    msrest_fix.apply()
    msrest_fix.apply()  # idempotent
    assert list(ClientRetryPolicy().policy.status_forcelist) == ORIGINAL
