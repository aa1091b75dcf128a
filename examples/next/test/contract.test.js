// @ts-check
import { describeExampleContract } from 'capi-kit-example-contract';
import { startNext } from './next-server.js';

describeExampleContract('next', startNext);
