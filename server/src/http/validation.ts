/**
 * Route-schema validation with TypeBox's compiled checker. Bodies are checked
 * as sent (no type coercion: "true" is not a boolean); query strings and path
 * parameters are converted from strings first, strictly (see convertStrings). Every error is turned into a
 * `{field: message}` pair a client can show next to its input.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * A schema may carry `errorMessage` to replace the generic text, in ajv-errors' two forms: a string, used for the
 * checks of the value's content (CONTENT_KEYWORDS: a string's length, pattern and format; a union's or an enum's
 * allowed values), not for its type; or an object keyed by keyword (`{ maxItems: '…' }`), used for exactly those.
 */
interface WithMessage {
  errorMessage?: string | Record<string, string>;
  anyOf?: unknown[];
  oneOf?: unknown[];
}

const CONTENT_KEYWORDS = new Set(['pattern', 'format', 'minLength', 'maxLength', 'anyOf', 'oneOf', 'enum', 'const']);

function resolveSchemaPath(root: unknown, schemaPath: string): (TSchema & WithMessage) | undefined {
  let node: unknown = root;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (part === '') continue;
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as (TSchema & WithMessage) | undefined;
}

/** The value a JSON pointer names, to quote it in a message. */
function resolveInstancePath(root: unknown, instancePath: string): unknown {
  let node: unknown = root;
  for (const part of instancePath.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  object: 'a JSON object',
  array: 'an array',
};

function ownMessage(keyword: string, schema: WithMessage | undefined): string | undefined {
  const message = schema?.errorMessage;
  if (typeof message === 'string') return CONTENT_KEYWORDS.has(keyword) ? message : undefined;
  return message?.[keyword];
}

/** The values a union of literals allows (`Type.Union([Type.Literal('a'), …])`), or undefined for any other union. */
function literalChoices(schema: WithMessage | undefined): unknown[] | undefined {
  const branches = schema?.anyOf ?? schema?.oneOf;
  if (!branches || branches.length === 0) return undefined;
  const values: unknown[] = [];
  for (const branch of branches) {
    if (branch === null || typeof branch !== 'object' || !('const' in branch)) return undefined;
    values.push(branch.const);
  }
  return values;
}

const choices = (values: unknown[]) => `must be one of ${values.map((value) => String(value)).join(', ')}`;

/** A short quote of a repeated value, for uniqueItems. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}

function describe(
  error: FastifySchemaValidationError,
  schema: WithMessage | undefined,
  value: unknown,
): string | undefined {
  const own = ownMessage(error.keyword, schema);
  if (own) return own;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return `must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters`;
    case 'maxLength':
      return `must be at most ${params.limit} characters`;
    case 'minimum':
      return `must be at least ${params.limit ?? params.minimum}`;
    case 'maximum':
      return `must be at most ${params.limit ?? params.maximum}`;
    case 'format':
      return params.format === 'email' ? 'must be a valid email address' : `must be a valid ${params.format}`;
    case 'minItems':
      return params.limit === 1 ? 'must not be empty' : `must have at least ${params.limit} items`;
    case 'maxItems':
      return `must have at most ${params.limit} items`;
    case 'uniqueItems': {
      const index = (params.duplicateItems as unknown[] | undefined)?.[0];
      const repeated = Array.isArray(value) && typeof index === 'number' ? value[index] : undefined;
      return repeated === undefined
        ? 'must not list the same value twice'
        : `must not list the same value twice (${quote(repeated)} is repeated)`;
    }
    case 'enum':
      return Array.isArray(params.allowedValues) ? choices(params.allowedValues) : 'is not one of the allowed values';
    case 'const':
      return `must be ${quote(params.allowedValue)}`;
    case 'anyOf':
    case 'oneOf': {
      const values = literalChoices(schema);
      // A union of other shapes has no sentence of its own: the branches' errors say what is wrong.
      return values ? choices(values) : undefined;
    }
    default:
      return 'is not valid';
  }
}

/**
 * The sentence of the outermost union (anyOf/oneOf) an error lies under, when that union has one: its errorMessage, or
 * the list of its literals. TypeBox reports a failed union as its branches' errors (`"archive"` fails each literal's
 * `const`, `7` each literal's `type`), sometimes followed by the union's own error and sometimes not; only the first
 * message per field is kept (fieldErrors), so without this the answer was the first branch's ("is not one of the
 * allowed values", "must be a string") instead of what the union allows.
 */
function unionSentence(root: TSchema, schemaPath: string): string | undefined {
  const parts = schemaPath.split('/');
  for (let i = 0; i < parts.length - 1; i++) {
    const keyword = parts[i] as string;
    if ((keyword !== 'anyOf' && keyword !== 'oneOf') || !/^[0-9]+$/.test(parts[i + 1] as string)) continue;
    const union = resolveSchemaPath(root, parts.slice(0, i).join('/'));
    const values = literalChoices(union);
    const sentence = ownMessage(keyword, union) ?? (values ? choices(values) : undefined);
    if (sentence) return sentence;
  }
  return undefined;
}

/** The errors to report, each with its sentence; a union's bare error (no sentence) leaves its branches' to speak. */
function reported(
  errors: readonly FastifySchemaValidationError[],
  schema: TSchema,
  value: unknown,
): FastifySchemaValidationError[] {
  const described = errors.map((error) => ({
    ...error,
    message:
      unionSentence(schema, error.schemaPath) ??
      describe(error, resolveSchemaPath(schema, error.schemaPath), resolveInstancePath(value, error.instancePath)),
  }));
  const kept = described.filter((error) => error.message !== undefined);
  // Never an empty list for a failed check (that would read as "valid" downstream).
  return kept.length > 0 ? kept : described.map((error) => ({ ...error, message: error.message ?? 'is not valid' }));
}

const CANONICAL_INTEGER = /^-?(?:0|[1-9][0-9]{0,19})$/;

/**
 * Query strings and path parameters arrive as strings. Only the canonical spelling of a whole number
 * becomes a number ("12", not "012", "1.0", "0x1", "1e1", " 1" or "true"), and only "true"/"false"
 * become booleans; anything else stays a string and fails the type check. TypeBox's Value.Convert is
 * more lenient than that, which would let /tasks/1.9/ address task 1.
 */
function convertStrings(schema: TSchema, input: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: string }> }).properties;
  if (!properties || input === null || typeof input !== 'object') return input;
  const output: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const [name, property] of Object.entries(properties)) {
    const value = output[name];
    if (typeof value !== 'string') continue;
    if ((property.type === 'integer' || property.type === 'number') && CANONICAL_INTEGER.test(value)) {
      output[name] = Number(value);
    } else if (property.type === 'boolean' && (value === 'true' || value === 'false')) {
      output[name] = value === 'true';
    }
  }
  return output;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const convert = httpPart !== 'body';
  return (input: unknown) => {
    const value = convert ? convertStrings(schema, input) : input;
    if (check.Check(value)) return { value };
    const errors = reported(check.Errors(value), schema, value);
    // Fastify's types want an Error here; it only reads the array.
    return { error: errors as unknown as Error };
  };
};

/** Turns a validation error list into `{field: message}`; the first message per field wins. */
export function fieldErrors(errors: readonly FastifySchemaValidationError[]): {
  fields: Record<string, string>;
  notAnObject: boolean;
} {
  // No prototype: a client's field may be called "toString" or "__proto__".
  const fields: Record<string, string> = Object.create(null);
  let notAnObject = false;
  const put = (field: string, message: string) => {
    if (!Object.hasOwn(fields, field)) fields[field] = message;
  };
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    // instancePath is a JSON pointer: "/a~1b" names the field "a/b".
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .join('.');
    if (error.keyword === 'additionalProperties') {
      const extra = (params.additionalProperties ?? params.additionalProperty) as string[] | string | undefined;
      for (const name of Array.isArray(extra) ? extra : extra ? [extra] : []) {
        put(path ? `${path}.${name}` : name, 'is not an allowed field');
      }
    } else if (error.keyword === 'required') {
      const missing = (params.requiredProperties ?? params.missingProperty) as string[] | string | undefined;
      for (const name of Array.isArray(missing) ? missing : missing ? [missing] : []) {
        put(path ? `${path}.${name}` : name, 'is required');
      }
    } else if (error.keyword === 'boolean') {
      // "schema is false" under additionalProperties: an unknown field.
      if (error.schemaPath.endsWith('additionalProperties')) put(path, 'is not an allowed field');
    } else if (path === '' && error.keyword === 'type') {
      notAnObject = true;
    } else {
      put(path || '(root)', error.message ?? 'is not valid');
    }
  }
  return { fields, notAnObject };
}
