// The Node.js snowflake-sdk logging in with AWS workload identity (the AWS credentials of its
// environment; SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES admits snowgate's host). Run by
// tests/clients/test_matrix_wif.py.
const snowflake = require('snowflake-sdk');

snowflake.configure({ logLevel: 'ERROR', disableOCSPChecks: true });
const env = process.env;
const conn = snowflake.createConnection({
  account: env.SG_ACCOUNT,
  accessUrl: `http://${env.SG_HOST}:${env.SG_PORT}`,
  username: env.SG_WIF_USER,
  authenticator: 'WORKLOAD_IDENTITY',
  workloadIdentityProvider: 'AWS',
  timeout: 20000,
});
conn.connect((err) => {
  if (err) throw err;
  conn.execute({
    sqlText: 'select current_user() as who',
    complete: (err2, _stmt, rows) => {
      if (err2) throw err2;
      if (rows[0].WHO !== env.SG_WIF_USER.toUpperCase()) throw new Error(JSON.stringify(rows));
      conn.destroy((err3) => {
        if (err3) throw err3;
        console.log('node workload identity (AWS): connect, query, destroy: ok');
      });
    },
  });
});
