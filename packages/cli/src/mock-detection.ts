/**
 * The response header the mock Graph API from @capi-kit/testing sets on every Graph answer.
 * Meta never sends it, so its presence means the CLI talked to a mock (and nothing reached Events
 * Manager); the URL alone cannot tell (the mock may run on any host, Meta behind a proxy).
 */
export const MOCK_GRAPH_HEADER = 'x-capi-kit-mock';
