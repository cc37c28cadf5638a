import { USER_CODE_ALPHABET, USER_CODE_LENGTH } from "../../shared/schemas/device";

/** The largest multiple of the alphabet's size below 256: bytes above it would favour some letters. */
const UNBIASED_BELOW = 256 - (256 % USER_CODE_ALPHABET.length);

/**
 * A fresh user code in its normalised form (8 of 20 letters: about 2^34.6 codes). Guessing
 * one is bounded by the per-user rate limit on looking codes up and by their short life.
 */
export function newUserCode(): string {
  let code = "";
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      if (byte < UNBIASED_BELOW && code.length < USER_CODE_LENGTH)
        code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    }
  }
  return code;
}
