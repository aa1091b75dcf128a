// @ts-check
import { describeExampleContract } from 'capi-kit-example-contract';
import { start } from '../src/app.js';

describeExampleContract('fastify', start);
