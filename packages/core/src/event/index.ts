export { ACTION_SOURCES, type ActionSource, isActionSource } from './action-source.js';
export { type BuildEventOptions, type BuildEventResult, buildEvent } from './build-event.js';
export { isCurrencyCode, normalizeCurrency } from './currency.js';
export { readDecimalText } from './custom-data.js';
export { newEventId } from './event-id.js';
export {
  MAX_EVENT_AGE_SECONDS,
  MAX_EVENT_TIME_SKEW_SECONDS,
  MAX_PHYSICAL_STORE_EVENT_AGE_SECONDS,
} from './event-time.js';
export { CapiValidationError, hasErrors, type Issue, type IssueSeverity } from './issues.js';
export { type EventName, STANDARD_EVENTS, type StandardEventName } from './standard-events.js';
export type {
  AppData,
  Content,
  ContentType,
  CustomData,
  CustomDataFields,
  CustomDataFor,
  CustomDataInput,
  CustomerSegmentation,
  DataProcessingOption,
  DeliveryCategory,
  MessagingChannel,
  OriginalEventData,
  OriginalEventDataInput,
  PurchaseCustomData,
  ServerEvent,
  ServerEventInput,
  ServerEventInputFields,
} from './types.js';
export { withoutEmailQuery } from './urls.js';
