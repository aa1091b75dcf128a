import { BadRequestException } from '@nestjs/common';

/** `POST /lead` body, as the example contract defines it. */
export interface LeadInput {
  email: string;
  phone?: string;
  first_name?: string;
  last_name?: string;
  country?: string;
}

/** One line of `POST /purchase`'s `contents`. */
export interface PurchaseItem {
  id: string;
  quantity?: number;
  item_price?: number;
}

/** `POST /purchase` body, as the example contract defines it. */
export interface PurchaseInput {
  email: string;
  value: number;
  currency: string;
  order_id: string;
  contents?: PurchaseItem[];
}

/** The contract's 400: `{ error, field }`, thrown before anything is tracked. */
const invalid = (field: string, error: string) => new BadRequestException({ error, field });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(field, `${field} is required and must be a non-empty string`);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  return value;
}

function optionalNumber(item: Record<string, unknown>, key: string): number | undefined {
  const value = item[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid('contents', `contents[].${key} must be a number`);
  }
  return value;
}

/** Validates a `POST /lead` body; throws the contract's 400 naming the first bad field. */
export function parseLead(body: unknown): LeadInput {
  const record = isRecord(body) ? body : {};
  const lead: LeadInput = { email: requiredString(record, 'email') };
  for (const field of ['phone', 'first_name', 'last_name', 'country'] as const) {
    const value = optionalString(record, field);
    if (value !== undefined) lead[field] = value;
  }
  return lead;
}

/** Validates a `POST /purchase` body; throws the contract's 400 naming the first bad field. */
export function parsePurchase(body: unknown): PurchaseInput {
  const record = isRecord(body) ? body : {};
  const email = requiredString(record, 'email');
  const value = record.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid('value', 'value is required and must be a number');
  }
  const purchase: PurchaseInput = {
    email,
    value,
    currency: requiredString(record, 'currency'),
    order_id: requiredString(record, 'order_id'),
  };
  if (record.contents !== undefined) {
    if (!Array.isArray(record.contents)) throw invalid('contents', 'contents must be an array');
    purchase.contents = record.contents.map((item: unknown): PurchaseItem => {
      if (!isRecord(item) || typeof item.id !== 'string') {
        throw invalid('contents', 'every contents[] item needs a string id');
      }
      const line: PurchaseItem = { id: item.id };
      const quantity = optionalNumber(item, 'quantity');
      const itemPrice = optionalNumber(item, 'item_price');
      if (quantity !== undefined) line.quantity = quantity;
      if (itemPrice !== undefined) line.item_price = itemPrice;
      return line;
    });
  }
  return purchase;
}
