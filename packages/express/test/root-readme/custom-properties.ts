// The root README's "Custom events and custom parameters" block follows the "README below" line, as
// the README shows it: `tsc -p tsconfig.json` checks that it compiles, test/root-readme.test.ts
// that the README still shows it. The README leaves `req` to the reader: declared here.
declare const req: import('express').Request;

// README below
req.capi.track('Purchase', {
  custom_data: { value: 49.9, currency: 'EUR', custom_properties: { coupon: 'SPRING' } },
});
// on the wire: "custom_data": { "value": 49.9, "currency": "EUR", "coupon": "SPRING" }
