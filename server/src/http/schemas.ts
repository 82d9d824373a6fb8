/** Route-schema pieces that more than one feature answers with. */
import { Type } from 'typebox';

/** A plain confirmation: logout, delete. */
export const Message = Type.Object({ message: Type.String() });

/**
 * A moment, answered as an ISO 8601 string. Handlers return the database's Date and the serializer writes it
 * as that string (format date-time), so the type a handler must return is Date | string; the document says string.
 */
export const Timestamp = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }));
