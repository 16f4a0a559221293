"""``RedisConnection.from_url``: Go's ParseRedisURI forms plus the cluster form; no Redis."""

from __future__ import annotations

import pytest
import redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from asynq import RedisConnection, ValidationError
from asynq._resolve import is_cluster, resolve_async, resolve_sync


def test_redis_url_defaults() -> None:
    conn = RedisConnection.from_url("redis://localhost")
    assert conn.addrs == (("localhost", 6379),)
    assert conn.db == 0
    assert conn.username is None and conn.password is None
    assert conn.tls is False
    assert conn.cluster is False
    assert conn.unix_socket is None and conn.sentinel_master is None


def test_redis_url_with_password_port_and_db() -> None:
    conn = RedisConnection.from_url("redis://:s3cret@10.0.0.5:6380/3")
    assert conn.addrs == (("10.0.0.5", 6380),)
    assert conn.db == 3
    assert conn.password == "s3cret"
    assert conn.username is None


def test_redis_url_with_user_and_password() -> None:
    conn = RedisConnection.from_url("redis://alice:pw@host:1234")
    assert (conn.username, conn.password) == ("alice", "pw")
    assert RedisConnection.from_url("redis://alice@host").username == "alice"
    assert RedisConnection.from_url("redis://alice@host").password is None


def test_percent_encoded_and_at_sign_passwords() -> None:
    assert RedisConnection.from_url("redis://:p%40ss%2Fw@host").password == "p@ss/w"
    assert RedisConnection.from_url("redis://:p@ss@host:1").password == "p@ss"


def test_db_in_path_or_query() -> None:
    assert RedisConnection.from_url("redis://host/5").db == 5
    assert RedisConnection.from_url("redis://host/").db == 0
    assert RedisConnection.from_url("redis://host?db=7").db == 7
    assert RedisConnection.from_url("redis://host:1/2/extra").db == 2  # Go: first path segment


def test_bare_host_port() -> None:
    conn = RedisConnection.from_url("localhost:6390")
    assert conn.addrs == (("localhost", 6390),)
    assert conn.tls is False
    assert RedisConnection.from_url("127.0.0.1").addrs == (("127.0.0.1", 6379),)


def test_ipv6_host() -> None:
    assert RedisConnection.from_url("redis://[::1]:6380/1").addrs == (("::1", 6380),)
    assert RedisConnection.from_url("redis://[::1]").addrs == (("::1", 6379),)


def test_rediss_enables_tls() -> None:
    conn = RedisConnection.from_url("rediss://:pw@redis.example.com:6380/1")
    assert conn.tls is True
    assert conn.addrs == (("redis.example.com", 6380),)
    assert (conn.db, conn.password) == (1, "pw")
    client = conn.sync_client()
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert client.connection_pool.connection_class is redis.SSLConnection
        assert kwargs["host"] == "redis.example.com" and kwargs["port"] == 6380
        assert kwargs["db"] == 1 and kwargs["password"] == "pw"
    finally:
        client.close()


def test_plain_redis_does_not_use_tls() -> None:
    client = RedisConnection.from_url("redis://h:1").sync_client()
    try:
        assert client.connection_pool.connection_class is redis.Connection
    finally:
        client.close()


def test_redis_socket() -> None:
    conn = RedisConnection.from_url("redis-socket:///var/run/redis/redis.sock?db=4")
    assert conn.unix_socket == "/var/run/redis/redis.sock"
    assert conn.db == 4
    conn = RedisConnection.from_url("redis-socket://:pw@/tmp/r.sock")
    assert (conn.unix_socket, conn.password, conn.db) == ("/tmp/r.sock", "pw", 0)
    client = conn.sync_client()
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["path"] == "/tmp/r.sock"
        assert client.connection_pool.connection_class is redis.UnixDomainSocketConnection
    finally:
        client.close()


def test_redis_socket_needs_a_path() -> None:
    with pytest.raises(ValidationError):
        RedisConnection.from_url("redis-socket://")


def test_redis_sentinel() -> None:
    conn = RedisConnection.from_url("redis-sentinel://:pw@h1:26379,h2:26380/2?master=prod")
    assert conn.addrs == (("h1", 26379), ("h2", 26380))
    assert conn.sentinel_master == "prod"
    assert (conn.password, conn.db) == ("pw", 2)
    conn = RedisConnection.from_url("redis-sentinel://h1,h2")
    assert conn.addrs == (("h1", 26379), ("h2", 26379))  # the sentinel default port
    assert conn.sentinel_master == "mymaster"


def test_redis_cluster() -> None:
    conn = RedisConnection.from_url("redis-cluster://:pw@n1:7000,n2:7001,n3")
    assert conn.cluster is True
    assert conn.addrs == (("n1", 7000), ("n2", 7001), ("n3", 6379))
    assert conn.password == "pw"
    assert RedisConnection.from_url("redis://n1:7000", cluster=True).cluster is True
    tls = RedisConnection.from_url("rediss://n1:7000,n2:7001/0", cluster=True)
    assert (tls.cluster, tls.tls, tls.addrs) == (True, True, (("n1", 7000), ("n2", 7001)))


@pytest.mark.parametrize(
    ("url", "cluster", "message"),
    [
        ("redis-cluster://n1:7000/2", False, "only database 0, not 2"),
        ("redis-cluster://n1:7000?db=1", False, "only database 0, not 1"),
        ("redis://n1:7000/3", True, "only database 0, not 3"),
        ("redis-sentinel://s1:26379?master=m", True, "cannot also be reached through Sentinel"),
        ("redis-socket:///tmp/redis.sock", True, "not a unix socket"),
    ],
)
def test_a_cluster_refuses_what_it_cannot_honour(url: str, cluster: bool, message: str) -> None:
    # redis-py's cluster client has no database, socket or sentinel to use: refused, not dropped.
    with pytest.raises(ValidationError, match=message):
        RedisConnection.from_url(url, cluster=cluster)
    with pytest.raises(ValidationError, match="only database 0"):
        RedisConnection(addrs=(("n1", 7000),), cluster=True, db=5)


@pytest.mark.parametrize("option", ["db", "host", "port", "unix_socket_path", "startup_nodes"])
def test_what_the_url_sets_is_no_extra_option(option: str) -> None:
    # redis-py would be handed it twice (a TypeError) or refuse it on first use (a cluster).
    for url in ("redis://h:1/0", "redis-cluster://h:1", "redis-socket:///tmp/r.sock"):
        with pytest.raises(ValidationError, match=f"the option '{option}' is set by the URL"):
            RedisConnection.from_url(url, **{option: 1})


def test_extra_options_reach_redis_py() -> None:
    conn = RedisConnection.from_url("redis://h:1", socket_timeout=2.5, client_name="me")
    client = conn.sync_client()
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 2.5 and kwargs["client_name"] == "me"
    finally:
        client.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:6379",
        "unix:///tmp/x.sock",
        "redis+sentinel://h:1",
        "redis://host:port",
        "redis://host:70000",
        "redis://host:-1",
        "redis://host/abc",
        "redis://host/-1",
        "redis://host?db=x",
        "redis-socket:///tmp/x.sock?db=two",
        "redis-cluster://",
        "redis-sentinel://h1:x?master=m",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        RedisConnection.from_url(url)


def test_resolve_sync_ownership() -> None:
    client, owned = resolve_sync("redis://h:1/0")
    assert isinstance(client, redis.Redis) and owned is True
    client.close()
    mine = redis.Redis(host="h", port=1)
    assert resolve_sync(mine) == (mine, False)
    mine.close()


def test_resolve_rejects_the_wrong_flavour() -> None:
    with pytest.raises(ValidationError):
        resolve_sync(redis.asyncio.Redis())
    with pytest.raises(ValidationError):
        resolve_async(redis.Redis())
    with pytest.raises(ValidationError):
        resolve_sync(42)


async def test_resolve_async_ownership() -> None:
    client, owned = resolve_async("redis://h:1/0")
    assert isinstance(client, redis.asyncio.Redis) and owned is True
    await client.aclose()
    mine = redis.asyncio.Redis(host="h", port=1)
    assert resolve_async(mine) == (mine, False)
    await mine.aclose()


def test_is_cluster() -> None:
    assert is_cluster(redis.Redis()) is False
    assert is_cluster(RedisCluster.__new__(RedisCluster)) is True
    assert is_cluster(AsyncRedisCluster.__new__(AsyncRedisCluster)) is True
