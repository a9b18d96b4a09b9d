// Shaped like @actions/cache's v1 lookup: GET _apis/artifactcache/cache with the runtime token.
const base = process.env.ACTIONS_CACHE_URL;
const token = process.env.ACTIONS_RUNTIME_TOKEN;
const q = `${base}_apis/artifactcache/cache?keys=probe-key&version=probe-version`;
(async () => {
  console.log(`url=${base ? base.replace(/:\d+\//, ':PORT/') : 'unset'} v2=${process.env.ACTIONS_CACHE_SERVICE_V2}`);
  const good = await fetch(q, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json;api-version=6.0-preview.1' } });
  console.log(`with token: ${good.status}`);
  const bad = await fetch(q, { headers: { Authorization: 'Bearer wrong' } });
  console.log(`wrong token: ${bad.status}`);
})().catch((e) => { console.log(`error: ${e}`); process.exit(1); });
