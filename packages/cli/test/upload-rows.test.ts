import { buildEvent } from '@capi-kit/core';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/index.js';
import { fieldFor, mapColumns, parseMapOption } from '../src/upload/columns.js';
import { type RowDefaults, rowToEvent } from '../src/upload/rows.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const defaults: RowDefaults = {
  eventName: 'Purchase',
  actionSource: 'physical_store',
  currency: 'USD',
};
const HEADER = ['Email', 'Phone Number', 'first-name', 'Order ID', 'event_time', 'Amount', 'Notes'];
const { columns } = mapColumns(HEADER, new Map());
const DAY_AGO = String(NOW / 1000 - 86_400);
const row = (fields: string[], line = 2) => rowToEvent({ fields, line }, columns, defaults, NOW);

describe('column mapping', () => {
  it('matches header names and aliases case- and separator-insensitively', () => {
    expect(mapColumns(HEADER, new Map())).toEqual({
      columns: ['em', 'ph', 'fn', 'order_id', 'event_time', 'value', undefined],
      ignored: ['Notes'],
      mapped: [
        { column: 'Email', field: 'em' },
        { column: 'Phone Number', field: 'ph' },
        { column: 'first-name', field: 'fn' },
        { column: 'Order ID', field: 'order_id' },
        { column: 'event_time', field: 'event_time' },
        { column: 'Amount', field: 'value' },
      ],
    });
    expect(fieldFor(' ZIP code ')).toBe('zp');
    expect(fieldFor('favourite colour')).toBeUndefined();
  });

  // Headers as shops and CRMs export them were ignored ("Created at", "E-mail Address",
  // "Zip/Postal Code"…): the upload stopped on "No event_time column", or sent rows without the
  // customer information those columns held. One test per exporter.
  const fieldsOf = (header: string[]) =>
    Object.fromEntries(mapColumns(header, new Map()).mapped.map((m) => [m.column, m.field]));

  it("maps a Shopify orders export's columns", () => {
    const header = [
      'Name',
      'Email',
      'Financial Status',
      'Paid at',
      'Currency',
      'Subtotal',
      'Total',
    ];
    header.push('Created at', 'Lineitem sku', 'Billing Name', 'Billing City', 'Billing Zip');
    header.push('Billing Province', 'Billing Country', 'Billing Phone', 'Shipping City', 'Phone');
    expect(fieldsOf(header)).toEqual({
      Email: 'em',
      Currency: 'currency',
      Total: 'value',
      'Created at': 'event_time',
      'Billing City': 'ct',
      'Billing Zip': 'zp',
      'Billing Province': 'st',
      'Billing Country': 'country',
      'Billing Phone': 'ph',
      Phone: 'ph',
    });
    // Its customers export.
    const customers = ['First Name', 'Last Name', 'Email', 'Default Address City'];
    customers.push('Default Address Province Code', 'Default Address Country Code');
    customers.push('Default Address Zip', 'Default Address Phone', 'Province Code');
    expect(Object.values(fieldsOf(customers))).toEqual([
      'fn',
      'ln',
      'em',
      'ct',
      'st',
      'country',
      'zp',
      'ph',
      'st',
    ]);
  });

  it("maps a WooCommerce orders export's columns", () => {
    const header = ['Order ID', 'Order Number', 'Order Date', 'Order Status', 'Order Total'];
    header.push('Order Currency');
    header.push('Billing First Name', 'Billing Last Name', 'Billing Email Address');
    header.push('Billing Phone', 'Billing Postcode', 'Billing City', 'Billing State');
    header.push('Billing Country', 'Shipping First Name');
    expect(fieldsOf(header)).toEqual({
      'Order ID': 'order_id',
      'Order Date': 'event_time',
      'Order Total': 'value',
      'Order Currency': 'currency',
      'Billing First Name': 'fn',
      'Billing Last Name': 'ln',
      'Billing Email Address': 'em',
      'Billing Phone': 'ph',
      'Billing Postcode': 'zp',
      'Billing City': 'ct',
      'Billing State': 'st',
      'Billing Country': 'country',
    });
    // The plugin's snake_case names (its order_number, beside order_id, is left alone: mapped to
    // order_id too, the two stopped the upload), and WooCommerce Analytics' "Order #".
    const plugin = [
      'order_id',
      'order_number',
      'date_created',
      'billing_email',
      'billing_postcode',
    ];
    expect(fieldsOf(plugin)).toEqual({
      order_id: 'order_id',
      date_created: 'event_time',
      billing_email: 'em',
      billing_postcode: 'zp',
    });
    expect(fieldsOf(['Order #'])).toEqual({ 'Order #': 'order_id' });
  });

  it("maps a HubSpot contacts export's columns", () => {
    const header = ['Record ID', 'First Name', 'Last Name', 'E-mail Address', 'Phone Number'];
    header.push('Mobile Phone Number', 'City', 'State/Region', 'Postal Code', 'Country/Region');
    header.push('Create Date', 'Lifecycle Stage');
    expect(Object.values(fieldsOf(header))).toEqual([
      'fn',
      'ln',
      'em',
      'ph',
      'ph',
      'ct',
      'st',
      'zp',
      'country',
      'event_time',
    ]);
  });

  it("maps a Salesforce leads or contacts report's columns", () => {
    const header = ['Lead ID', 'First Name', 'Last Name', 'Email', 'Mobile Phone', 'City'];
    header.push('State/Province', 'Zip/Postal Code', 'Country', 'Created Date');
    expect(Object.values(fieldsOf(header))).toEqual([
      'fn',
      'ln',
      'em',
      'ph',
      'ct',
      'st',
      'zp',
      'country',
      'event_time',
    ]);
    const contacts = ['Mailing City', 'Mailing State/Province', 'Mailing Zip/Postal Code'];
    contacts.push('Mailing Country', 'Email Address');
    expect(Object.values(fieldsOf(contacts))).toEqual(['ct', 'st', 'zp', 'country', 'em']);
  });

  // A deal or opportunity export has both a creation and a close date: which one the conversion
  // happened at is the user's to say, and --map says it; the other date column is then ignored
  // (it stopped the upload with "both map to event_time", with no way to ignore a column).
  it('asks which date is the event_time when two are known, and --map picks one', () => {
    const header = ['Deal Name', 'Amount', 'Close Date', 'Create Date', 'Email'];
    expect(() => mapColumns(header, new Map())).toThrow(
      'Columns "Close Date" and "Create Date" both map to event_time; choose one with --map "Close Date=event_time"',
    );
    expect(mapColumns(header, parseMapOption(['Close Date=event_time']))).toMatchObject({
      columns: [undefined, 'value', 'event_time', undefined, 'em'],
      ignored: ['Deal Name', 'Create Date'],
    });
  });

  it('applies --map before the names and refuses bad maps', () => {
    const map = parseMapOption(['Notes=external_id', 'Amount=value']);
    expect(mapColumns(HEADER, map).columns.at(-1)).toBe('external_id');
    expect(() => parseMapOption(['Notes'])).toThrow(CliError);
    expect(() => parseMapOption(['Notes=shoe_size'])).toThrow(/known field/);
    expect(() => mapColumns(HEADER, parseMapOption(['Missing=email']))).toThrow(/does not have/);
    expect(() => mapColumns(['value', 'total'], new Map())).toThrow(/both map to value/);
    // Several columns may feed one user_data key: Meta accepts lists.
    expect(mapColumns(['email', 'email 2'], parseMapOption(['email 2=em'])).columns).toEqual([
      'em',
      'em',
    ]);
  });

  // A spreadsheet exports a column without a header cell (often trailing: email,event_time,,) as an
  // empty name, and the report read "ignored columns: , " with nothing to find the column by.
  it('names an ignored column without a header by its position', () => {
    expect(mapColumns(['email', '', 'event_time', ' ', '"'], new Map()).ignored).toEqual([
      '(column 2, no header)',
      '(column 4, no header)',
      '"',
    ]);
  });

  it("ignores columns named like Object.prototype's members; --map refuses them as fields", () => {
    const header = ['Email', 'constructor', '__proto__', 'toString', 'Constructor', 'event_time'];
    expect(mapColumns(header, new Map())).toEqual({
      columns: ['em', undefined, undefined, undefined, undefined, 'event_time'],
      ignored: ['constructor', '__proto__', 'toString', 'Constructor'],
      mapped: [
        { column: 'Email', field: 'em' },
        { column: 'event_time', field: 'event_time' },
      ],
    });
    expect(fieldFor('hasOwnProperty')).toBeUndefined();
    expect(() => parseMapOption(['Notes=constructor'])).toThrow(/known field/);
  });
});

describe('rowToEvent', () => {
  it('builds the event, its id from order_id, ISO and Unix times', () => {
    const iso = row([
      'Jane@Example.com',
      '+1 650 555 1212',
      'Jane',
      'A-1',
      '2026-11-27T10:00:00Z',
      '19.90',
      'x',
    ]);
    expect(iso).toMatchObject({
      ok: true,
      eventId: 'A-1',
      eventName: 'Purchase',
      input: {
        event_name: 'Purchase',
        action_source: 'physical_store',
        event_time: new Date('2026-11-27T10:00:00Z'),
        user_data: { em: 'Jane@Example.com', ph: '+1 650 555 1212', fn: 'Jane' },
        custom_data: { value: 19.9, currency: 'USD', order_id: 'A-1' },
      },
    });
    const unix = row(['jane@example.com', '', '', 'A-2', DAY_AGO, '5', '']);
    expect(unix.ok && unix.input.event_time).toBe(NOW / 1000 - 86_400);
  });

  it('derives a stable event_id from the content when there is no order_id', () => {
    const a = row(['jane@example.com', '', '', '', DAY_AGO, '5', 'note 1']);
    const b = row(['jane@example.com', '', '', '', DAY_AGO, '5', 'note 2']); // ignored column
    const c = row(['jane@example.com', '', '', '', String(NOW / 1000 - 86_399), '5', '']);
    expect(a.ok && a.eventId).toMatch(/^row-[0-9a-f]{32}$/);
    expect(a.ok && a.eventId).toBe(b.ok && b.eventId);
    expect(a.ok && a.eventId).not.toBe(c.ok && c.eventId);
  });

  it('reports problems by field and rule, never with the value', () => {
    const cases: [string[], string][] = [
      [['a@b.co', '', '', '1', '', '5', ''], 'missing_event_time'],
      [['a@b.co', '', '', '1', 'yesterday', '5', ''], 'invalid_event_time'],
      [['a@b.co', '', '', '1', DAY_AGO, 'ten', ''], 'invalid_value'],
      [['a@b.co', '', '', '1', String(NOW / 1000 - 70 * 86_400), '5', ''], 'event_time_too_old'],
      [['a@b.co', '', '', '1', DAY_AGO, '5'], 'csv_field_count'],
    ];
    for (const [fields, rule] of cases) {
      const result = row(fields);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.problems.map((p) => p.rule)).toContain(rule);
      expect(JSON.stringify(result.problems)).not.toContain('a@b.co');
    }
    const noKeys = row(['', '', '', '1', DAY_AGO, '5', '']);
    expect(!noKeys.ok && noKeys.problems.map((p) => p.field)).toContain('user_data');
  });

  // Exporters that want Excel to keep a leading zero write the cell as the formula ="02134" (in a
  // quoted field, "=""02134"""). Read as text, the wrapper was sent: order_id ="A-1001" became the
  // event_id ="A-1001", which never deduplicates against the Pixel's A-1001, and the external_id
  // was hashed with =" and " around it. No warning said so.
  it('reads a value behind Excel\'s ="…" text formula as the value it spells', () => {
    const header = ['email', 'zip', 'external_id', 'order_id', 'event_time', 'value', 'country'];
    const mapped = mapColumns(header, new Map()).columns;
    const result = rowToEvent(
      {
        fields: ['="a@b.co"', '="02134"', '="00123"', '="A-1001"', `="${DAY_AGO}"`, '="5"', 'US'],
        line: 2,
      },
      mapped,
      defaults,
      NOW,
    );
    expect(result).toMatchObject({
      ok: true,
      eventId: 'A-1001',
      input: {
        event_id: 'A-1001',
        event_time: Number(DAY_AGO),
        user_data: { em: 'a@b.co', zp: '02134', external_id: '00123' },
        custom_data: { value: 5, order_id: 'A-1001' },
      },
    });
    // Only the whole cell: a value that merely holds =" is kept as it is.
    const kept = rowToEvent(
      { fields: ['a@b.co', '', 'x="1"', 'B-1', DAY_AGO, '5', ''], line: 2 },
      mapped,
      defaults,
      NOW,
    );
    expect(kept.ok && kept.input.user_data?.external_id).toBe('x="1"');
  });

  // A spreadsheet keeps a leading + or 0 by marking the cell as text with an apostrophe, which some
  // exports keep: "'+33 6 12 34 56 78" was read as a national number (no country code known,
  // warned so) and with --default-country another country's code could be put before it.
  it("reads a phone or zip behind a spreadsheet's text apostrophe as the number it marks", () => {
    const header = ['email', 'phone', 'zip', 'event_time', 'value'];
    const mapped = mapColumns(header, new Map()).columns;
    const read = (phone: string, zip: string, defaultCountry?: string) =>
      rowToEvent(
        { fields: ['a@b.co', phone, zip, DAY_AGO, '5'], line: 2 },
        mapped,
        { ...defaults, defaultCountry },
        NOW,
      );
    const marked = read("'+33 6 12 34 56 78", "'01234");
    expect(marked).toMatchObject({
      ok: true,
      input: { user_data: { ph: '+33 6 12 34 56 78', zp: '01234' } },
    });
    expect(marked.ok && marked.warnings).toBeFalsy();
    const us = read("'+33 6 12 34 56 78", "'01234", 'US');
    expect(us.ok && us.input.user_data?.ph).toBe('+33 6 12 34 56 78');
  });

  // Excel shows a long number in a General cell as 3.36123E+10 and exports it so: the digits past
  // the sixth are gone, and the phone was sent (hashed) as another number, warned only as lacking
  // a country code.
  it('refuses a phone a spreadsheet wrote in scientific notation, without the value', () => {
    const header = ['email', 'phone', 'event_time', 'value'];
    const mapped = mapColumns(header, new Map()).columns;
    for (const phone of ['3.36123E+10', '3,36123E+10', '1.65055E+10', '4.47911e+11']) {
      const result = rowToEvent(
        { fields: ['a@b.co', phone, DAY_AGO, '5'], line: 2 },
        mapped,
        defaults,
        NOW,
      );
      expect(result.ok, phone).toBe(false);
      if (result.ok) continue;
      expect(result.problems).toEqual([
        {
          field: 'user_data.ph',
          rule: 'phone_scientific_notation',
          message: expect.stringMatching(/scientific notation.*digits.*as text/),
        },
      ]);
      expect(JSON.stringify(result.problems)).not.toContain(phone);
    }
  });

  // A spreadsheet in a local format writes 07/12/2026 14:30 or 07.12.2026: "Not an ISO 8601
  // date-time or a Unix timestamp." named the standard but not what to write.
  it('says how to write an event_time a spreadsheet wrote in a local format, without the value', () => {
    for (const when of ['07/12/2026 14:30', '07.12.2026', '12/7/2026 2:30 PM']) {
      const result = row(['a@b.co', '', '', '1', when, '5', '']);
      expect(result.ok, when).toBe(false);
      if (result.ok) continue;
      const problem = result.problems.find((p) => p.rule === 'invalid_event_time');
      expect(problem?.message, when).toMatch(/2026-12-07T14:30:00\+01:00.*Unix seconds/);
      expect(JSON.stringify(result.problems)).not.toContain(when);
    }
  });

  // A date column a spreadsheet exports as a number (its General format) holds days since 1899-12-30,
  // the time as a fraction: 46353.5 is 2026-11-27 12:00, in no time zone. 46353 was read as Unix
  // seconds (1970-01-01 12:52) and reported event_time_too_old, 46353.5 as not a timestamp.
  it('refuses an event_time that is a spreadsheet date serial, saying so, without the value', () => {
    for (const when of ['46353', '46353.5', '46353,5', "'46353.520833", '36526', '73050.99']) {
      const result = row(['a@b.co', '', '', '1', when, '5', '']);
      expect(result.ok, when).toBe(false);
      if (result.ok) continue;
      expect(result.problems, when).toEqual([
        {
          field: 'event_time',
          rule: 'event_time_spreadsheet_serial',
          message: expect.stringMatching(/date serial.*time zone.*1904.*Unix seconds/),
        },
      ]);
      expect(JSON.stringify(result.problems)).not.toContain(when.replace("'", ''));
    }
    // Unix seconds are still read as such, and a number too small to be either is still too old.
    expect(row(['a@b.co', '', '', '1', DAY_AGO, '5', '']).ok).toBe(true);
    const small = row(['a@b.co', '', '', '1', '1234', '5', '']);
    expect(!small.ok && small.problems.map((p) => p.rule)).toEqual(['event_time_too_old']);
  });

  // Excel's General format shows Unix milliseconds as 1.7651E+12 and exports them so: up to 10^8 ms
  // (more than a day) are gone. It was refused as "Not an ISO 8601 date-time or a Unix timestamp",
  // which says nothing of why nor of the fix.
  it('refuses an event_time a spreadsheet wrote in scientific notation, without the value', () => {
    for (const when of ['1.7651E+12', '1,7651E+12', '1.76433E+09', "'1.7651e+12", '2E+12']) {
      const result = row(['a@b.co', '', '', '1', when, '5', '']);
      expect(result.ok, when).toBe(false);
      if (result.ok) continue;
      expect(result.problems, when).toEqual([
        {
          field: 'event_time',
          rule: 'event_time_scientific_notation',
          message: expect.stringMatching(/scientific notation.*digits.*no decimals/),
        },
      ]);
      expect(JSON.stringify(result.problems)).not.toContain(when.replace("'", ''));
    }
  });

  // Excel's recipe for Unix time, =(A2-DATE(1970,1,1))*86400, gives a fraction of a second
  // (floating point, or the seconds' own), which a spreadsheet exports: 1764244800.25 was refused
  // as "Not an ISO 8601 date-time or a Unix timestamp" though it is one.
  it('reads Unix seconds with a fraction (a dot, or a decimal comma) as the second they are in', () => {
    const second = NOW / 1000 - 86_400;
    for (const when of [`${second}.25`, `${second},999`, `${second}.0000001`, `'${second}.5`]) {
      const result = row(['a@b.co', '', '', '1', when, '5', '']);
      expect(result.ok, when).toBe(true);
      if (!result.ok) continue;
      const built = buildEvent(result.input, { now: () => NOW });
      expect(built.event?.event_time, when).toBe(second);
    }
    const ms = row(['a@b.co', '', '', '1', `${second * 1000}.5`, '5', '']);
    expect(ms.ok && ms.warnings?.map((w) => w.rule)).toEqual(['event_time_in_milliseconds']);
  });

  // The same Excel format turns a long customer number into 1.23457E+15: sent hashed, it was
  // another id, matching no one.
  it('refuses an external_id a spreadsheet wrote in scientific notation, and keeps an id like 2E5', () => {
    const header = ['email', 'external_id', 'event_time', 'value'];
    const mapped = mapColumns(header, new Map()).columns;
    const read = (id: string) =>
      rowToEvent({ fields: ['a@b.co', id, DAY_AGO, '5'], line: 2 }, mapped, defaults, NOW);
    for (const id of ['1.23457E+15', '4,56789E+18']) {
      const result = read(id);
      expect(result.ok, id).toBe(false);
      if (result.ok) continue;
      expect(result.problems).toEqual([
        {
          field: 'user_data.external_id',
          rule: 'external_id_scientific_notation',
          message: expect.stringMatching(/scientific notation.*digits.*as text/),
        },
      ]);
      expect(JSON.stringify(result.problems)).not.toContain(id);
    }
    expect(read('2E5').ok).toBe(true);
  });

  // A formula that failed (a VLOOKUP finding no customer) exports as #N/A, #VALUE!, #REF!…: the
  // core read #N/A as the first name "na", the country Namibia, and the same external_id for every
  // such row (one person to Meta); as an order_id it made the rows duplicates of each other.
  it("leaves a spreadsheet's error value out of user_data, warned, and refuses it elsewhere", () => {
    const header = [
      'email',
      'first_name',
      'country',
      'external_id',
      'order_id',
      'event_time',
      'value',
    ];
    const mapped = mapColumns(header, new Map()).columns;
    const read = (fields: string[]) => rowToEvent({ fields, line: 2 }, mapped, defaults, NOW);
    const lookup = read(['a@b.co', '#N/A', '#n/a', '#REF!', 'A-1', DAY_AGO, '5']);
    expect(lookup.ok).toBe(true);
    if (lookup.ok) {
      expect(lookup.input.user_data).toEqual({ em: 'a@b.co' });
      expect(lookup.warnings).toEqual(
        ['user_data.fn', 'user_data.country', 'user_data.external_id'].map((field) => ({
          field,
          rule: 'spreadsheet_error_value',
          message: expect.stringMatching(/spreadsheet error.*formula.*left out/),
        })),
      );
      // One message whatever the cell held: it names the kind of value, not the cell's.
      expect(new Set(lookup.warnings?.map((w) => w.message)).size).toBe(1);
    }
    const cases: [string[], string][] = [
      [['a@b.co', '', '', '', '#N/A', DAY_AGO, '5'], 'custom_data.order_id'],
      [['a@b.co', '', '', '', 'A-2', '#VALUE!', '5'], 'event_time'],
      [['a@b.co', '', '', '', 'A-3', DAY_AGO, '#DIV/0!'], 'custom_data.value'],
      [['a@b.co', '', '', '', 'A-4', DAY_AGO, '#NAME?'], 'custom_data.value'],
    ];
    for (const [fields, field] of cases) {
      const result = read(fields);
      expect(result.ok, field).toBe(false);
      if (result.ok) continue;
      expect(result.problems, field).toEqual([
        {
          field,
          rule: 'spreadsheet_error_value',
          message: expect.stringMatching(/spreadsheet error.*formula.*export again/),
        },
      ]);
    }
    // Only the error values: a name or an id may start with # (#1 fan, #A-17).
    const hashed = read(['a@b.co', 'Jo', 'US', '#A-17', '#1', DAY_AGO, '5']);
    expect(hashed.ok && hashed.input.user_data?.external_id).toBe('#A-17');
    expect(hashed.ok && hashed.eventId).toBe('#1');
  });

  // Excel writes a date-time cell to CSV as the locale shows it (12/7/2026 2:30 PM in the US,
  // 07.12.2026 14:30 in Germany), so nearly every Excel export was refused, with no way to say how
  // to read it: --date-order, given for birth dates, did not reach event_time.
  it('reads a local-format event_time by --date-order, in the machine time zone, warned so', () => {
    const at = (when: string, dateOrder?: RowDefaults['dateOrder']) => {
      const result = rowToEvent(
        { fields: ['a@b.co', '', '', '1', when, '5', ''], line: 2 },
        columns,
        { ...defaults, dateOrder },
        NOW,
      );
      return result.ok
        ? { time: result.input.event_time, warnings: result.warnings?.map((w) => w.rule) }
        : result.problems.map((p) => `${p.rule}: ${p.message}`);
    };
    const local = (y: number, m: number, d: number, h = 0, min = 0, s = 0) => ({
      time: new Date(y, m - 1, d, h, min, s),
      warnings: ['event_time_local_zone'],
    });
    expect(at('27/11/2026 14:30', 'dmy')).toEqual(local(2026, 11, 27, 14, 30));
    expect(at('07.11.2026 14:30:15', 'dmy')).toEqual(local(2026, 11, 7, 14, 30, 15));
    expect(at('11/7/2026 2:30 PM', 'mdy')).toEqual(local(2026, 11, 7, 14, 30));
    expect(at('11/7/2026 12:05 am', 'mdy')).toEqual(local(2026, 11, 7, 0, 5));
    expect(at('11-27-2026', 'mdy')).toEqual(local(2026, 11, 27));
    expect(at('2026/11/27 14:30')).toEqual(local(2026, 11, 27, 14, 30)); // year first: one reading
    // ISO 8601 is left to Date.parse as before: a date alone is UTC midnight, not warned.
    expect(at('2026-11-27')).toEqual({
      time: new Date('2026-11-27T00:00:00Z'),
      warnings: undefined,
    });
    expect(at('2026-11-27', 'dmy')).toEqual({
      time: new Date('2026-11-27T00:00:00Z'),
      warnings: undefined,
    });
    // Without --date-order it is not guessed, and the message says how to give the order.
    for (const when of ['27/11/2026 14:30', '07.11.2026', '11/7/2026 2:30 PM']) {
      const refused = at(when);
      expect(refused, when).toEqual([
        expect.stringMatching(/^invalid_event_time: .*--date-order dmy or mdy/),
      ]);
      expect(JSON.stringify(refused)).not.toContain(when);
    }
    // Not a day in the order given, or not a time: refused.
    for (const [when, order] of [
      ['27/11/2026', 'mdy'],
      ['31/11/2026', 'dmy'],
      ['27/11/2026 25:00', 'dmy'],
      ['27/11/2026 13:00 PM', 'dmy'],
      ['27/11/26 14:30', 'dmy'],
    ] as const) {
      expect(at(when, order), when).toEqual([expect.stringMatching(/^invalid_event_time: /)]);
    }
  });

  // A birth-date column a spreadsheet exports as numbers: 32999 is 1990-05-06. The core dropped it
  // as "Not a date of birth", which did not say why nor how to export it.
  it('leaves out a date of birth that is a spreadsheet date serial, saying so, without the value', () => {
    const mapped = mapColumns(['email', 'date_of_birth', 'event_time', 'value'], new Map()).columns;
    const read = (db: string) =>
      rowToEvent({ fields: ['a@b.co', db, DAY_AGO, '5'], line: 2 }, mapped, defaults, NOW);
    for (const db of ['32999', "'32999", '32999.0']) {
      const result = read(db);
      expect(result.ok, db).toBe(true);
      if (!result.ok) continue;
      expect(result.input.user_data).toEqual({ em: 'a@b.co' });
      expect(result.warnings, db).toEqual([
        {
          field: 'user_data.db',
          rule: 'date_of_birth_spreadsheet_serial',
          message: expect.stringMatching(/date serial.*left out.*yyyy-mm-dd/),
        },
      ]);
      expect(JSON.stringify(result.warnings)).not.toContain('32999');
    }
    const plain = read('19900506');
    expect(plain.ok && plain.input.user_data?.db).toBe('19900506');
  });

  it('refuses an event_time whose date is not a day of the calendar instead of rolling it over', () => {
    // Date.parse reads 2026-09-31 as October 1st: a typo would be sent as another day.
    for (const when of ['2026-09-31T10:00:00Z', '2026-02-29', '2026-11-00 10:00']) {
      const result = row(['a@b.co', '', '', '1', when, '5', '']);
      expect(!result.ok && result.problems.map((p) => p.rule), when).toEqual([
        'invalid_event_time',
      ]);
    }
    const real = rowToEvent(
      { fields: ['a@b.co', '', '', '1', '2026-10-31T10:00:00Z', '5', ''], line: 2 },
      columns,
      defaults,
      NOW,
    );
    expect(real.ok && real.input.event_time).toEqual(new Date('2026-10-31T10:00:00Z'));
  });

  it('reads amounts as spreadsheets write them, and refuses the ambiguous and the odd', () => {
    const amountOf = (amount: string) => {
      const result = row(['a@b.co', '', '', '1', DAY_AGO, amount, '']);
      return result.ok ? result.input.custom_data?.value : result.problems.map((p) => p.rule);
    };
    const cases: [string, number | string[]][] = [
      ['19.90', 19.9],
      ['-5', ['negative_purchase_value']], // a refund: see the accounting-format test below
      ['.5', 0.5], // as Number() read them before
      ['5.', 5],
      ['1e3', 1000],
      ['12,50', 12.5],
      ['12,5', 12.5],
      ['1,234.50', 1234.5],
      ['1.234,50', 1234.5],
      ['1 234,50', 1234.5],
      ['1\u00a0234,50', 1234.5],
      ["1'234.50", 1234.5],
      ['1.234.567', 1_234_567],
      ['1,234,567', 1_234_567],
      ['1,234', ['invalid_value']], // a thousand, or one and a bit
      ['1,234,56', ['invalid_value']],
      ['0x1A', ['invalid_value']], // Number() read 26
      ['Infinity', ['invalid_value']],
      ['12.50 EUR', ['invalid_value']],
    ];
    for (const [amount, expected] of cases) expect(amountOf(amount), amount).toEqual(expected);
  });

  // A refund exported from a spreadsheet's accounting format is `(5.00)` or `($5.00)`: it was
  // refused as "Not a number." (no hint that it was a negative amount), and `-5.00` was sent as a
  // Purchase worth -5, which Meta counts as revenue. A Purchase's value is now refused when
  // negative, in either form; another event reads `(5.00)` as -5, the same as `-5.00`.
  it('refuses a negative Purchase value, in accounting form too; reads it as negative elsewhere', () => {
    const problemsOf = (amount: string) => {
      const result = row(['a@b.co', '', '', '1', DAY_AGO, amount, '']);
      return result.ok ? result.input.custom_data?.value : result.problems;
    };
    for (const amount of ['(5.00)', '($5.00)', '(1,234.50)', '( 5,00 € )', '-5.00', '-0.01']) {
      const problems = problemsOf(amount);
      expect(problems, amount).toEqual([
        {
          field: 'custom_data.value',
          rule: 'negative_purchase_value',
          message: expect.stringMatching(/negative.*Purchase.*refund/i),
        },
      ]);
      expect(JSON.stringify(problems)).not.toContain(amount);
    }
    expect(problemsOf('(0.00)')).toBe(0);
    // Not an amount at all: still refused as such.
    for (const amount of ['()', '(-5)', '(5', '5)', '((5))'])
      expect(problemsOf(amount), amount).toMatchObject([{ rule: 'invalid_value' }]);
    const refund = (amount: string) => {
      const result = rowToEvent(
        { fields: ['a@b.co', '', '', '1', DAY_AGO, amount, ''], line: 2 },
        columns,
        { ...defaults, eventName: 'Refund' },
        NOW,
      );
      return result.ok ? result.input.custom_data?.value : result.problems.map((p) => p.rule);
    };
    expect(refund('(5.00)')).toBe(-5);
    expect(refund('(1.234,50)')).toBe(-1234.5);
    expect(refund('-5.00')).toBe(-5);
    expect(refund('($5.00)')).toEqual(['invalid_value']); // the currency symbol, as for $5.00
  });

  // Excel's Accounting format exports a refund with the symbol outside the parentheses, `$ (5.00)`
  // (or `(5,00) €`): refused as "Not a number.", without the reason; the symbol must still be
  // refused in another event's row, not dropped.
  it('reads the accounting format with the currency symbol outside the parentheses', () => {
    for (const amount of ['$ (5.00)', '$(5.00)', '(5,00) €', 'EUR (5.00)']) {
      const result = row(['a@b.co', '', '', '1', DAY_AGO, amount, '']);
      expect(!result.ok && result.problems.map((p) => p.rule), amount).toEqual([
        'negative_purchase_value',
      ]);
      const refund = rowToEvent(
        { fields: ['a@b.co', '', '', '1', DAY_AGO, amount, ''], line: 2 },
        columns,
        { ...defaults, eventName: 'Refund' },
        NOW,
      );
      expect(!refund.ok && refund.problems[0]?.message, amount).toMatch(/currency symbol or code/);
    }
  });

  // "Not a number." for €19.90 left the operator guessing which character was wrong; a currency
  // symbol or code is the usual one, and where the currency goes is the fix.
  it('says to take a currency symbol or code out of the amount, without the value', () => {
    for (const amount of ['€19.90', '19,90 €', '$5', '12.50 EUR', 'USD 5']) {
      const result = row(['a@b.co', '', '', '1', DAY_AGO, amount, '']);
      expect(result.ok, amount).toBe(false);
      if (result.ok) continue;
      const problem = result.problems.find((p) => p.rule === 'invalid_value');
      expect(problem?.message, amount).toMatch(
        /currency symbol or code.*currency column.*--currency/,
      );
      expect(JSON.stringify(result.problems)).not.toContain(amount);
    }
    const odd = row(['a@b.co', '', '', '1', DAY_AGO, 'ten', '']);
    expect(!odd.ok && odd.problems[0]?.message).toBe('Not a number.');
  });

  it('refuses 1.234 in a file separated by ";" or tabs, where it may be a thousand', () => {
    const amountOf = (amount: string, delimiter?: RowDefaults['delimiter']) => {
      const result = rowToEvent(
        { fields: ['a@b.co', '', '', '1', DAY_AGO, amount, ''], line: 2 },
        columns,
        { ...defaults, delimiter },
        NOW,
      );
      return result.ok ? result.input.custom_data?.value : result.problems.map((p) => p.rule);
    };
    for (const delimiter of [';', '\t'] as const) {
      expect(amountOf('1.234', delimiter)).toEqual(['invalid_value']);
      expect(amountOf('-12.500', delimiter)).toEqual(['invalid_value']);
      expect(amountOf('1.234,50', delimiter)).toBe(1234.5);
      expect(amountOf('1.234.567', delimiter)).toBe(1_234_567);
      expect(amountOf('12.50', delimiter)).toBe(12.5);
      expect(amountOf('1234.567', delimiter)).toBe(1234.567); // no thousands group has four digits
    }
    expect(amountOf('1.234', ',')).toBe(1.234);
    expect(amountOf('1.234')).toBe(1.234);
  });

  it("warns when event_time is a date and time without a time zone (read in the machine's)", () => {
    const local = new Date(NOW - 3_600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const text = `${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}T${pad(local.getHours())}:${pad(local.getMinutes())}:00`;
    const rulesOf = (time: string) => {
      const result = row(['a@b.co', '', '', '1', time, '5', '']);
      return result.ok ? (result.warnings ?? []).map((w) => w.rule) : result.problems;
    };
    expect(rulesOf(text)).toEqual(['event_time_local_zone']);
    expect(rulesOf(text.replace('T', ' '))).toEqual(['event_time_local_zone']);
    const utc = new Date(NOW - 86_400_000).toISOString(); // …Z
    expect(rulesOf(utc)).toEqual([]);
    expect(rulesOf(utc.replace('Z', '+00:00'))).toEqual([]);
    expect(rulesOf(DAY_AGO)).toEqual([]);
  });

  it('flags broken CSV quoting on the row', () => {
    const result = rowToEvent(
      {
        fields: ['a@b.co', '', '', '1', DAY_AGO, '5', ''],
        line: 9,
        error: 'text after a closing quote',
      },
      columns,
      defaults,
      NOW,
    );
    expect(!result.ok && result.problems[0]?.rule).toBe('csv_quoting');
  });
});
