/**
 * Route-schema validation with TypeBox's compiled checker. Bodies are checked
 * as sent (no type coercion: "true" is not a boolean); query strings and path
 * parameters are converted from strings first, strictly (see convertStrings). Every error is turned into a
 * `{field: message}` pair a client can show next to its input.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** A schema may carry `errorMessage` to replace the generic text for its own checks. */
interface WithMessage {
  errorMessage?: string;
}

function resolveSchemaPath(root: unknown, schemaPath: string): (TSchema & WithMessage) | undefined {
  let node: unknown = root;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (part === '') continue;
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as (TSchema & WithMessage) | undefined;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  object: 'a JSON object',
  array: 'an array',
};

function describe(error: FastifySchemaValidationError, schema: WithMessage | undefined): string {
  const params = error.params as Record<string, unknown>;
  if (schema?.errorMessage && ['pattern', 'format', 'minLength', 'maxLength'].includes(error.keyword)) {
    return schema.errorMessage;
  }
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
    case 'enum':
    case 'const':
      return 'is not one of the allowed values';
    default:
      return 'is not valid';
  }
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
    const errors = check.Errors(value).map((error) => ({
      ...error,
      message: describe(error, resolveSchemaPath(schema, error.schemaPath)),
    }));
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
