/** SHA-256 hex of the strings TikTok hashes, computed independently (`printf %s … | sha256sum`). */
export const SHA256 = {
  'jane@example.com': '8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d',
  '+16505551212': '1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8',
  /** Meta's form of the same phone: must never be what TikTok gets. */
  '16505551212': 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
  '12345': '5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5',
  'User-42': 'fafe5e551759817bdc65038b8cb1a8263b1a8b3b60c269d67ff0f8c57ae0f733',
  '+447911123456': '20b18ac9de7b3aad174961827d8e451c410af9aedfd1d699927f4b29b81aa1fa',
  '+4915123456789': '663a4322addcdcc2be9435bfd2505066dc1048b89d33e48f363119f18bdd71e8',
  us: '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
} as const;
