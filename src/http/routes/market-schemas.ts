import { z } from 'zod';
import { errorResponseSchema } from '../errors';
import { commonErrors } from '../schemas';

/** What the market's route files share: amounts in sats, a participant id, the conflict answers. */

export const sats = z.string().meta({ description: 'satoshis, as a decimal string' });
export const participantId = z
  .string()
  .regex(/^par_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a participant id');
export const conflicts = { ...commonErrors, 409: errorResponseSchema, 422: errorResponseSchema };
export const tags = ['market'];
