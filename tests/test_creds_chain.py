"""The credential chain against the emulator's STS and container endpoint.

Each test mounts the real daemon with one source (or a choice of sources)
and tells the emulator to accept, for ECS, only the credentials that source
should have produced; a listing of the mount then proves the ECS calls were
signed with them.  Failures are checked as the one start-up line they give.
"""

import os
import subprocess

import pytest

from helpers.mount import Mount

ROLE = "arn:aws:iam::123456789012:role/ecsfs-operator"
ROLE2 = "arn:aws:iam::123456789012:role/ecsfs-hop"
ROLE_AK = "ASIAROLEOPERATOR0001"
ROLE_SK = "roleSecretKeyZq9sEkReT0000000000000000000"
ROLE_TOK = "FwoGZXIvYXdzRoleSessionTokenZq9sEkReT"
HOP_AK = "ASIAROLEHOP000000001"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.webIdentityZq9sEkReT.sig"
NO_KEYS = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}


def role(emu, arn=ROLE, ak=ROLE_AK, **kw):
    spec = {"access_key": ak, "secret_key": ROLE_SK + ak[-1],
        "session_token": ROLE_TOK + ak[-1]}
    spec.update(kw)
    spec = {k: v for k, v in spec.items() if v is not None}
    emu.admin("POST", "sts", {"roles": {arn: spec}})


def accept_only(emu, *keys, issued_by_sts=False):
    emu.admin("POST", "accept_only", {"access_keys": list(keys),
        "issued_by_sts": issued_by_sts})


def sts_calls(emu):
    return emu.admin("GET", "signers")["sts"]


def signers(emu):
    return emu.admin("GET", "signers")["signers"]


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return str(path)


def files(emu, tmp_path, config="", credentials=""):
    """The config and credentials files, as environment entries."""
    return {"AWS_CONFIG_FILE": write(tmp_path / "config", config),
        "AWS_SHARED_CREDENTIALS_FILE": write(tmp_path / "credentials",
        credentials)}


def mounted_listing(tmp_path, emu, env):
    """Mounts with env, lists the mount, unmounts; the daemon's log."""
    m = Mount(tmp_path, emu, env=env)
    m.start()
    try:
        assert "production-cluster" in os.listdir(m.path)
        identity = m.read(".ecsfs", "identity") if os.path.exists(
            m.p(".ecsfs", "identity")) else ""
    finally:
        m.stop()
    return m.log() + identity


def failed_start(tmp_path, emu, env):
    """Starts the daemon, which must exit 1 with one line; that line."""
    m = Mount(tmp_path, emu, env=env)
    m.path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(m.command(), env=m.env(), capture_output=True,
        text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Zq9sEkReT" not in r.stderr
    return lines[0]


def no_secret(text):
    for s in ("Zq9sEkReT", ROLE_SK, ROLE_TOK, WEB_TOKEN):
        assert s not in text


def test_environment_alone(tmp_path, emulator):
    emulator.add_credentials("AKIAENVIRONMENT00001", "envSecretZq9sEkReT")
    accept_only(emulator, "AKIAENVIRONMENT00001")
    log = mounted_listing(tmp_path, emulator, {
        "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001",
        "AWS_SECRET_ACCESS_KEY": "envSecretZq9sEkReT"})
    assert signers(emulator).get("AKIAENVIRONMENT00001", 0) > 0
    no_secret(log)


def test_web_identity_from_environment(tmp_path, emulator):
    role(emulator, web_token=WEB_TOKEN)
    accept_only(emulator, ROLE_AK)
    tok = write(tmp_path / "token", WEB_TOKEN + "\n")
    env = dict(NO_KEYS, AWS_WEB_IDENTITY_TOKEN_FILE=tok, AWS_ROLE_ARN=ROLE,
        AWS_ROLE_SESSION_NAME="delegate-7")
    log = mounted_listing(tmp_path, emulator, env)
    calls = sts_calls(emulator)
    assert calls[0]["action"] == "AssumeRoleWithWebIdentity"
    assert calls[0]["session"] == "delegate-7"
    assert signers(emulator).get(ROLE_AK, 0) > 0
    no_secret(log)


def test_web_identity_from_profile(tmp_path, emulator):
    role(emulator, web_token=WEB_TOKEN)
    accept_only(emulator, ROLE_AK)
    tok = write(tmp_path / "token", WEB_TOKEN)
    env = dict(NO_KEYS, AWS_PROFILE="irsa", **files(emulator, tmp_path,
        "[profile irsa]\nrole_arn = %s\nweb_identity_token_file = %s\n" %
        (ROLE, tok)))
    mounted_listing(tmp_path, emulator, env)
    assert sts_calls(emulator)[0]["action"] == "AssumeRoleWithWebIdentity"
    assert signers(emulator).get(ROLE_AK, 0) > 0


def test_assume_role_profile_signed_with_source(tmp_path, emulator):
    role(emulator, external_id="ext-42", trusts=[
        "arn:aws:iam::123456789012:user/ecsim"])
    accept_only(emulator, ROLE_AK)
    env = dict(NO_KEYS, AWS_PROFILE="ops", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\nsource_profile = base\n"
        "external_id = ext-42\nrole_session_name = ops-session\n"
        "duration_seconds = 1800\n" % ROLE,
        "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" %
        (emulator.access_key, emulator.secret_key)))
    log = mounted_listing(tmp_path, emulator, env)
    calls = sts_calls(emulator)
    assert [c["action"] for c in calls] == ["AssumeRole"]
    assert calls[0]["signer"] == emulator.access_key
    assert calls[0]["session"] == "ops-session"
    assert signers(emulator).get(ROLE_AK, 0) > 0
    assert emulator.access_key not in signers(emulator)
    no_secret(log)


def test_source_profile_chain_of_two(tmp_path, emulator):
    role(emulator, ROLE2, HOP_AK)
    role(emulator, trusts=["arn:aws:sts::123456789012:assumed-role/"
        "ecsfs-hop/hop"])
    accept_only(emulator, ROLE_AK)
    env = dict(NO_KEYS, AWS_PROFILE="ops", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\nsource_profile = hop\n"
        "[profile hop]\nrole_arn = %s\nsource_profile = base\n"
        "role_session_name = hop\n" % (ROLE, ROLE2),
        "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" %
        (emulator.access_key, emulator.secret_key)))
    mounted_listing(tmp_path, emulator, env)
    calls = sts_calls(emulator)
    assert [(c["role"], c["signer"]) for c in calls] == [
        (ROLE2, emulator.access_key), (ROLE, HOP_AK)]
    assert signers(emulator).get(ROLE_AK, 0) > 0


def test_environment_beats_a_profile(tmp_path, emulator):
    role(emulator)
    env = dict(AWS_PROFILE="ops", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\ncredential_source = Environment\n" %
        ROLE))
    accept_only(emulator, emulator.access_key)
    mounted_listing(tmp_path, emulator, env)
    assert sts_calls(emulator) == []


def test_credential_source_environment(tmp_path, emulator):
    role(emulator)
    accept_only(emulator, ROLE_AK)
    env = files(emulator, tmp_path, "[profile ops]\nrole_arn = %s\n"
        "credential_source = Environment\n" % ROLE)
    m = Mount(tmp_path, emulator, env=env, options={"profile": "ops"})
    m.start()
    try:
        assert "production-cluster" in os.listdir(m.path)
    finally:
        m.stop()
    assert sts_calls(emulator)[0]["signer"] == emulator.access_key
    assert signers(emulator).get(ROLE_AK, 0) > 0


def test_container_full_uri_with_token_file(tmp_path, emulator):
    emulator.admin("POST", "container", {"token": "podTokenZq9sEkReT",
        "credentials": {"AccessKeyId": "ASIAPODIDENTITY00001",
        "SecretAccessKey": "podSecretZq9sEkReT", "Token": "podSessionZq9sEkReT",
        "Expiration": "2099-01-01T00:00:00Z"}})
    accept_only(emulator, "ASIAPODIDENTITY00001")
    tok = write(tmp_path / "pod-token", "podTokenZq9sEkReT")
    env = dict(NO_KEYS, AWS_CONTAINER_CREDENTIALS_FULL_URI=emulator.url +
        "/_ecsim_container/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tok)
    log = mounted_listing(tmp_path, emulator, env)
    assert signers(emulator).get("ASIAPODIDENTITY00001", 0) > 0
    no_secret(log)


def test_container_wrong_token_is_one_line(tmp_path, emulator):
    emulator.admin("POST", "container", {"token": "podTokenZq9sEkReT",
        "credentials": {"AccessKeyId": "ASIAPODIDENTITY00001",
        "SecretAccessKey": "podSecretZq9sEkReT", "Token": "t"}})
    tok = write(tmp_path / "pod-token", "stale-token")
    line = failed_start(tmp_path, emulator, dict(NO_KEYS,
        AWS_CONTAINER_CREDENTIALS_FULL_URI=emulator.url +
        "/_ecsim_container/creds", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tok))
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in line
    assert "HTTP 401" in line


def test_source_profile_loop_is_refused(tmp_path, emulator):
    env = dict(NO_KEYS, AWS_PROFILE="a", **files(emulator, tmp_path,
        "[profile a]\nrole_arn = %s\nsource_profile = b\n"
        "[profile b]\nrole_arn = %s\nsource_profile = a\n" % (ROLE, ROLE2)))
    line = failed_start(tmp_path, emulator, env)
    assert line == ("ecsfs: profile a: the source_profile chain loops back "
        "to profile a")


def test_mfa_serial_is_refused(tmp_path, emulator):
    env = dict(NO_KEYS, AWS_PROFILE="ops", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\nsource_profile = base\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/me\n" % ROLE,
        "[base]\naws_access_key_id = A\naws_secret_access_key = B\n"))
    line = failed_start(tmp_path, emulator, env)
    assert "assume-role profile ops sets mfa_serial" in line
    assert "cannot ask for an MFA code" in line


def test_assume_role_access_denied_is_one_line(tmp_path, emulator):
    role(emulator, deny=True)
    env = dict(NO_KEYS, AWS_PROFILE="ops", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\nsource_profile = base\n" % ROLE,
        "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" %
        (emulator.access_key, emulator.secret_key)))
    line = failed_start(tmp_path, emulator, env)
    assert line.startswith("ecsfs: assume-role profile ops (%s, from "
        "shared credentials file " % ROLE)
    assert ("STS AssumeRole at %s: AccessDenied: Not authorized" %
        emulator.url) in line


def test_web_identity_unreadable_token_is_one_line(tmp_path, emulator):
    missing = str(tmp_path / "no-such-token")
    line = failed_start(tmp_path, emulator, dict(NO_KEYS,
        AWS_WEB_IDENTITY_TOKEN_FILE=missing, AWS_ROLE_ARN=ROLE))
    assert line == ("ecsfs: web identity (AWS_WEB_IDENTITY_TOKEN_FILE %s): "
        "cannot read the token file %s: No such file or directory" %
        (missing, missing))


def test_web_identity_bad_token_is_one_line(tmp_path, emulator):
    role(emulator, web_token=WEB_TOKEN)
    tok = write(tmp_path / "token", "not-the-token")
    line = failed_start(tmp_path, emulator, dict(NO_KEYS,
        AWS_WEB_IDENTITY_TOKEN_FILE=tok, AWS_ROLE_ARN=ROLE))
    assert "STS AssumeRoleWithWebIdentity at %s: InvalidIdentityToken" % \
        emulator.url in line
    assert "not-the-token" not in line


def test_no_secret_in_proc_cmdline_or_environment_dump(tmp_path, emulator):
    role(emulator, web_token=WEB_TOKEN)
    accept_only(emulator, ROLE_AK)
    tok = write(tmp_path / "token", WEB_TOKEN)
    m = Mount(tmp_path, emulator, env=dict(NO_KEYS,
        AWS_WEB_IDENTITY_TOKEN_FILE=tok, AWS_ROLE_ARN=ROLE))
    m.start()
    try:
        os.listdir(m.path)
        with open("/proc/%d/cmdline" % m.proc.pid, "rb") as f:
            no_secret(f.read().decode(errors="replace"))
        for name in ("identity", "stats", "endpoint", "region"):
            no_secret(m.read(".ecsfs", name))
    finally:
        m.stop()
    no_secret(m.log())


IMDS_CREDS = {"AccessKeyId": "ASIAINSTANCEROLE0001",
    "SecretAccessKey": "instanceSecretZq9sEkReT",
    "Token": "instanceTokenZq9sEkReT", "Expiration": "2099-01-01T00:00:00Z"}


def imds_env(emu):
    return dict(NO_KEYS, AWS_EC2_METADATA_DISABLED=None,
        AWS_EC2_METADATA_SERVICE_ENDPOINT=emu.url)


def test_instance_metadata_alone(tmp_path, emulator):
    emulator.admin("POST", "imds", {"role": "ecsfs-delegate",
        "credentials": IMDS_CREDS})
    accept_only(emulator, IMDS_CREDS["AccessKeyId"])
    log = mounted_listing(tmp_path, emulator, imds_env(emulator))
    assert signers(emulator).get(IMDS_CREDS["AccessKeyId"], 0) > 0
    state = emulator.admin("GET", "imds")
    assert state["ttls"] and all(1 <= t <= 21600 for t in state["ttls"])
    no_secret(log)


def test_a_profile_role_beats_the_instance_role(tmp_path, emulator):
    emulator.admin("POST", "imds", {"role": "ecsfs-delegate",
        "credentials": IMDS_CREDS})
    role(emulator, trusts=["arn:aws:iam::123456789012:user/ecsim"])
    accept_only(emulator, ROLE_AK)
    env = dict(imds_env(emulator), AWS_PROFILE="ops", **files(emulator,
        tmp_path, "[profile ops]\nrole_arn = %s\nsource_profile = base\n" %
        ROLE, "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
        % (emulator.access_key, emulator.secret_key)))
    mounted_listing(tmp_path, emulator, env)
    assert signers(emulator).get(ROLE_AK, 0) > 0
    assert emulator.admin("GET", "imds")["puts"] == 0


def test_credential_source_instance_metadata(tmp_path, emulator):
    emulator.admin("POST", "imds", {"role": "ecsfs-delegate",
        "credentials": IMDS_CREDS})
    role(emulator)
    accept_only(emulator, ROLE_AK)
    env = dict(imds_env(emulator), AWS_PROFILE="ops", **files(emulator,
        tmp_path, "[profile ops]\nrole_arn = %s\n"
        "credential_source = Ec2InstanceMetadata\n" % ROLE))
    mounted_listing(tmp_path, emulator, env)
    calls = sts_calls(emulator)
    assert calls[0]["signer"] == IMDS_CREDS["AccessKeyId"]
    assert signers(emulator).get(ROLE_AK, 0) > 0


def test_instance_metadata_hop_limit_is_one_line(tmp_path, emulator):
    emulator.admin("POST", "imds", {"drop_put": True})
    line = failed_start(tmp_path, emulator, dict(imds_env(emulator),
        KUBERNETES_SERVICE_HOST="10.0.0.1"))
    assert line.startswith("ecsfs: instance metadata (IMDSv2) at %s: no "
        "answer to PUT /latest/api/token within 1 s, twice" % emulator.url)
    assert "hop limit" in line


def test_instance_metadata_without_role_is_one_line(tmp_path, emulator):
    line = failed_start(tmp_path, emulator, imds_env(emulator))
    assert line == ("ecsfs: instance metadata (IMDSv2) at %s: the instance "
        "has no IAM role (no instance profile)" % emulator.url)


def test_instance_metadata_disabled(tmp_path, emulator):
    line = failed_start(tmp_path, emulator, dict(imds_env(emulator),
        AWS_EC2_METADATA_DISABLED="true"))
    assert line.endswith("instance metadata (AWS_EC2_METADATA_DISABLED)")
    assert emulator.admin("GET", "imds")["puts"] == 0


def test_refresh_across_expiry_under_32_readers(tmp_path, emulator):
    """Credentials living 20 s are refreshed 10 s before expiry; a refresh
    that fails (token file gone) is logged and retried while the old ones
    sign; no read fails, and ECS takes only STS's unexpired keys."""
    import threading
    import time
    emulator.admin("POST", "sts", {"roles": {ROLE: {"duration": 20,
        "web_token": WEB_TOKEN}}})
    accept_only(emulator, issued_by_sts=True)
    tok = tmp_path / "token"
    write(tok, WEB_TOKEN)
    m = Mount(tmp_path, emulator, options={"cache_ttl": 0, "stale_ttl": 0},
        env=dict(NO_KEYS, AWS_WEB_IDENTITY_TOKEN_FILE=str(tok),
        AWS_ROLE_ARN=ROLE))
    m.start()
    failures, reads = [], [0]
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                m.read("production-cluster", "status")
                reads[0] += 1
            except OSError as e:
                failures.append(repr(e))

    try:
        threads = [threading.Thread(target=reader) for _ in range(32)]
        for t in threads:
            t.start()
        tok.rename(tmp_path / "token.gone")      # the first refresh fails
        time.sleep(13)
        (tmp_path / "token.gone").rename(tok)    # a retry then works
        time.sleep(12)
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        m.stop()
    assert failures == []
    assert reads[0] > 100
    calls = sts_calls(emulator)
    assert len(calls) >= 2
    used = [k for k in signers(emulator) if k.startswith("ASIA")]
    assert len(used) >= 2
    log = m.log()
    assert "reloading credentials failed" in log
    assert "cannot read the token file" in log
    no_secret(log)


def test_identity_file_and_journal_principal(tmp_path, emulator):
    role(emulator, web_token=WEB_TOKEN)
    accept_only(emulator, ROLE_AK)
    tok = write(tmp_path / "token", WEB_TOKEN)
    m = Mount(tmp_path, emulator, env=dict(NO_KEYS,
        AWS_WEB_IDENTITY_TOKEN_FILE=tok, AWS_ROLE_ARN=ROLE,
        AWS_ROLE_SESSION_NAME="delegate-7"))
    m.start()
    try:
        ident = dict(l.split(" ", 1) for l in
            m.read(".ecsfs", "identity").splitlines())
        m.sh("echo 2 > development-cluster/services/api/desired_count")
        journal = m.read(".ecsfs", "journal")
    finally:
        m.stop()
    arn = "arn:aws:sts::123456789012:assumed-role/ecsfs-operator/delegate-7"
    assert ident["source"] == "web identity (AWS_WEB_IDENTITY_TOKEN_FILE " \
        "%s)" % tok
    assert ident["principal"] == arn
    assert ident["account"] == "123456789012"
    assert ident["expiration"].endswith("Z")
    assert "principal=%s" % arn in journal
    no_secret(journal + m.log())


def test_identity_with_static_keys_never_expires(tmp_path, emulator):
    m = Mount(tmp_path, emulator)
    m.start()
    try:
        text = m.read(".ecsfs", "identity")
    finally:
        m.stop()
    assert text == ("source environment\nprincipal arn:aws:iam::123456789012:"
        "user/ecsim\naccount 123456789012\nexpiration never\n")
    assert emulator.secret_key not in text


SSO_CREDS = {"accessKeyId": "ASIASSOROLE000000001",
    "secretAccessKey": "ssoSecretZq9sEkReT", "sessionToken": "ssoTokZq9sEkReT"}


def sso_setup(emu, tmp_path, expires_in, refresh=True):
    import datetime
    import hashlib
    import json as j
    emu.admin("POST", "sso", {"access_token": "aoaCachedZq9sEkReT",
        "refresh_token": "aorRefreshZq9sEkReT", "client_id": "cid-1",
        "account_id": "111122223333", "role_name": "Operator",
        "credentials": SSO_CREDS})
    d = os.path.join(emu.dir, ".aws", "sso", "cache")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(b"corp").hexdigest() + ".json")
    exp = datetime.datetime.utcnow() + datetime.timedelta(seconds=expires_in)
    cache = {"startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1", "accessToken": "aoaCachedZq9sEkReT",
        "expiresAt": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if refresh:
        cache.update({"clientId": "cid-1", "clientSecret": "csZq9sEkReT",
            "refreshToken": "aorRefreshZq9sEkReT",
            "registrationExpiresAt": "2099-01-01T00:00:00Z"})
    with open(path, "w") as f:
        j.dump(cache, f)
    env = dict(NO_KEYS, AWS_PROFILE="sso", **files(emu, tmp_path,
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
        "sso_role_name = Operator\n[sso-session corp]\n"
        "sso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = us-east-1\n"))
    return env, path


def test_sso_profile_alone(tmp_path, emulator):
    env, _ = sso_setup(emulator, tmp_path, 3600)
    accept_only(emulator, SSO_CREDS["accessKeyId"])
    log = mounted_listing(tmp_path, emulator, env)
    assert emulator.admin("GET", "sso")["calls"] == ["GetRoleCredentials"]
    assert signers(emulator).get(SSO_CREDS["accessKeyId"], 0) > 0
    no_secret(log)


def test_sso_token_refreshed_through_create_token(tmp_path, emulator):
    import json as j
    env, path = sso_setup(emulator, tmp_path, 60)
    accept_only(emulator, SSO_CREDS["accessKeyId"])
    mounted_listing(tmp_path, emulator, env)
    assert emulator.admin("GET", "sso")["calls"] == ["CreateToken",
        "GetRoleCredentials"]
    with open(path) as f:
        cache = j.load(f)
    assert cache["accessToken"] == emulator.admin("GET", "sso")[
        "access_token"]


def test_sso_expired_login_is_one_line(tmp_path, emulator):
    env, path = sso_setup(emulator, tmp_path, -60, refresh=False)
    line = failed_start(tmp_path, emulator, env)
    assert line == ("ecsfs: SSO profile sso: the SSO login has expired "
        "(%s): run aws sso login --profile sso" % path)


def test_credential_source_ecs_container(tmp_path, emulator):
    emulator.admin("POST", "container", {"token": None,
        "credentials": {"AccessKeyId": "ASIATASKROLE00000001",
        "SecretAccessKey": "taskSecretZq9sEkReT", "Token": "taskTokZq9sEkReT",
        "Expiration": "2099-01-01T00:00:00Z"}})
    role(emulator)
    accept_only(emulator, ROLE_AK)
    env = dict(NO_KEYS, AWS_PROFILE="ops",
        AWS_CONTAINER_CREDENTIALS_FULL_URI=emulator.url +
        "/_ecsim_container/creds", **files(emulator, tmp_path,
        "[profile ops]\nrole_arn = %s\ncredential_source = EcsContainer\n" %
        ROLE))
    mounted_listing(tmp_path, emulator, env)
    assert sts_calls(emulator)[0]["signer"] == "ASIATASKROLE00000001"
    assert signers(emulator).get(ROLE_AK, 0) > 0


def test_sso_legacy_profile(tmp_path, emulator):
    import datetime
    import hashlib
    import json as j
    url = "https://legacy.awsapps.com/start"
    emulator.admin("POST", "sso", {"access_token": "aoaLegacyZq9sEkReT",
        "account_id": "111122223333", "role_name": "Operator",
        "credentials": SSO_CREDS})
    d = os.path.join(emulator.dir, ".aws", "sso", "cache")
    os.makedirs(d, exist_ok=True)
    exp = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
    with open(os.path.join(d, hashlib.sha1(url.encode()).hexdigest() +
        ".json"), "w") as f:
        j.dump({"startUrl": url, "region": "us-east-1",
            "accessToken": "aoaLegacyZq9sEkReT",
            "expiresAt": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}, f)
    accept_only(emulator, SSO_CREDS["accessKeyId"])
    env = dict(NO_KEYS, AWS_PROFILE="old", **files(emulator, tmp_path,
        "[profile old]\nsso_start_url = %s\nsso_region = us-east-1\n"
        "sso_account_id = 111122223333\nsso_role_name = Operator\n" % url))
    mounted_listing(tmp_path, emulator, env)
    assert signers(emulator).get(SSO_CREDS["accessKeyId"], 0) > 0
