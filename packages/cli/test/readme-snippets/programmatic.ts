import { createReadStream } from 'node:fs';
import { readCsvRecords, runCli } from '@capi-kit/cli';

const records = readCsvRecords(createReadStream('orders.csv'), { delimiter: ',' }); // or ';', '\t'
for await (const { fields, line, error } of records) {
  if (error !== undefined) console.error(`orders.csv line ${line}: ${error}`);
  else console.log(fields);
}

process.exitCode = await runCli(['doctor', '--json'], {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
