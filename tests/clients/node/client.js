// The Node.js snowflake-sdk against snowgate: password, key pair, programmatic access token and
// External OAuth, a query, destroy (log out).
// Run by tests/clients/test_matrix.py with the SG_* environment it sets.
const fs = require('fs');
const snowflake = require('snowflake-sdk');

snowflake.configure({ logLevel: 'ERROR', disableOCSPChecks: true });
const env = process.env;
const base = {
  account: env.SG_ACCOUNT,
  accessUrl: `http://${env.SG_HOST}:${env.SG_PORT}`,
  timeout: 20000,
};

function run(options, sql) {
  return new Promise((resolve, reject) => {
    const conn = snowflake.createConnection({ ...base, ...options });
    conn.connect((err) => {
      if (err) return reject(err);
      conn.execute({
        sqlText: sql,
        complete: (err2, _stmt, rows) => {
          if (err2) return reject(err2);
          conn.destroy((err3) => (err3 ? reject(err3) : resolve(rows)));
        },
      });
    });
  });
}

(async () => {
  const pw = await run({ username: env.SG_USER, password: env.SG_PASSWORD },
    'select current_user() as who, 1 as id');
  if (pw[0].WHO !== env.SG_USER.toUpperCase() || pw[0].ID !== 1) throw new Error(JSON.stringify(pw));
  console.log('node password: connect, query, destroy: ok');
  const kp = await run({
    username: env.SG_KEY_USER,
    authenticator: 'SNOWFLAKE_JWT',
    privateKey: fs.readFileSync(env.SG_KEY_PATH, 'utf8'),
  }, 'select current_user() as who');
  if (kp[0].WHO !== env.SG_KEY_USER) throw new Error(JSON.stringify(kp));
  console.log('node key pair: connect, query, destroy: ok');
  const pat = await run({
    username: env.SG_PAT_USER,
    authenticator: 'PROGRAMMATIC_ACCESS_TOKEN',
    token: env.SG_PAT,
  }, 'select current_user() as who');
  if (pat[0].WHO !== env.SG_PAT_USER) throw new Error(JSON.stringify(pat));
  console.log('node programmatic access token: connect, query, destroy: ok');
  const oauth = await run({
    username: env.SG_OAUTH_USER,
    authenticator: 'OAUTH',
    token: env.SG_OAUTH_TOKEN,
  }, 'select current_user() as who, current_role() as role');
  if (oauth[0].WHO !== env.SG_OAUTH_USER || oauth[0].ROLE !== 'PUBLIC') throw new Error(JSON.stringify(oauth));
  console.log('node External OAuth: connect, query, destroy: ok');
})().catch((e) => { console.error(e); process.exit(1); });
