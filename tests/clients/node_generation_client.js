// An older Node.js snowflake-sdk generation (1.x in node-sdk1, 2.x in node-sdk2) against snowgate:
// password and key pair, each with a context query and destroy (log out); a wrong password, which
// must fail with code 390100; with `renew`, a query after the session token expired (the server's
// tokens live 2 seconds), which the SDK answers by renewing its token with the master token.
// Usage: node node_generation_client.js <npm project dir> [renew]. Run by test_matrix_generations.py.
const fs = require('fs');
const path = require('path');

const dir = path.resolve(process.argv[2]);
const snowflake = require(require.resolve('snowflake-sdk', { paths: [dir] }));
const version = require(path.join(dir, 'node_modules', 'snowflake-sdk', 'package.json')).version;
snowflake.configure({ logLevel: 'ERROR' });
const env = process.env;
const base = {
  account: env.SG_ACCOUNT,
  accessUrl: `http://${env.SG_HOST}:${env.SG_PORT}`,
  timeout: 20000,
};
const CONTEXT = 'select current_user() as who, current_role() as role';

const connect = (options) => new Promise((resolve, reject) => {
  const conn = snowflake.createConnection({ ...base, ...options });
  conn.connect((err) => (err ? reject(err) : resolve(conn)));
});
const query = (conn, sqlText) => new Promise((resolve, reject) => {
  conn.execute({ sqlText, complete: (err, _stmt, rows) => (err ? reject(err) : resolve(rows)) });
});
const destroy = (conn) => new Promise((resolve, reject) => {
  conn.destroy((err) => (err ? reject(err) : resolve()));
});
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function context(conn, user) {
  const rows = await query(conn, CONTEXT);
  if (rows[0].WHO !== user.toUpperCase() || !rows[0].ROLE) throw new Error(JSON.stringify(rows));
  return rows[0].ROLE;
}

(async () => {
  if (process.argv[3] === 'renew') {
    const conn = await connect({ username: env.SG_USER, password: env.SG_PASSWORD });
    await context(conn, env.SG_USER);
    await sleep(3000);
    await context(conn, env.SG_USER);
    await destroy(conn);
    console.log(`node snowflake-sdk ${version}: renewal: ok`);
    return;
  }
  let conn = await connect({ username: env.SG_USER, password: env.SG_PASSWORD });
  const role = await context(conn, env.SG_USER);
  await destroy(conn);
  console.log(`node snowflake-sdk ${version}: password, context (${role}), destroy: ok`);

  conn = await connect({
    username: env.SG_KEY_USER,
    authenticator: 'SNOWFLAKE_JWT',
    privateKey: fs.readFileSync(env.SG_KEY_PATH, 'utf8'),
  });
  if (await context(conn, env.SG_KEY_USER) !== 'PUBLIC') throw new Error('key-pair user role');
  await destroy(conn);
  console.log(`node snowflake-sdk ${version}: key pair, context, destroy: ok`);

  try {
    await connect({ username: env.SG_USER, password: `not-${env.SG_PASSWORD}` });
  } catch (err) {
    if (String(err.code) !== '390100') throw err;
    console.log(`node snowflake-sdk ${version}: wrong password: ${err.code}: ok`);
    return;
  }
  throw new Error('a wrong password logged in');
})().catch((e) => { console.error(e); process.exit(1); });
