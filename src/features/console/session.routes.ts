import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { errorResponses } from '../../http/schemas.ts';
import { CsrfHeader, Session, SignInBody } from './session.schemas.ts';
import { clearSessionCookie, lacksCsrfHeader, sessionToken, setSessionCookie } from './session-cookie.ts';
import type { SessionService } from './sessions.service.ts';

export const sessionRoutes: FastifyPluginAsyncTypebox<{
  sessions: SessionService;
  lifetimeSeconds: number;
}> = async (app, { sessions, lifetimeSeconds }) => {
  app.post(
    '/v1/session',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'createSession',
        summary: 'Sign in to the console: exchange an API key for a session cookie',
        description:
          'The key is checked and forgotten: the answer sets an HttpOnly, SameSite=Strict cookie that ' +
          'authenticates later requests with the key’s scopes until it expires, the session is ended, ' +
          'or the key is revoked. Needs the header x-sync-manager-csrf: 1.',
        tags: ['session'],
        headers: CsrfHeader,
        body: SignInBody,
        response: { 201: Session, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireCsrfHeader(request);
      const { token, session } = await sessions.signIn(request.body.key);
      setSessionCookie(request, reply, token, lifetimeSeconds);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(session);
    },
  );

  app.get(
    '/v1/session',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getSession',
        summary: 'The console session of this cookie: tenant, key name and scopes, expiry',
        description: 'Answers 401 when there is no live session (none, expired, ended, or its key revoked).',
        tags: ['session'],
        response: { 200: Session, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      const token = sessionToken(request);
      const session = token === undefined ? undefined : await sessions.session(token);
      if (!session) throw new AppError('unauthorized', 'Not signed in, or the session has ended');
      reply.header('cache-control', 'no-store');
      return session;
    },
  );

  app.delete(
    '/v1/session',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'deleteSession',
        summary: 'Sign out: end the session of this cookie at once',
        description: 'Needs the header x-sync-manager-csrf: 1. Answers 204 even when no session was open.',
        tags: ['session'],
        headers: CsrfHeader,
        response: { 204: Type.Null(), ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      requireCsrfHeader(request);
      const token = sessionToken(request);
      if (token !== undefined) await sessions.signOut(token);
      clearSessionCookie(request, reply);
      return reply.code(204).send(null);
    },
  );
};

function requireCsrfHeader(request: FastifyRequest): void {
  if (lacksCsrfHeader(request)) {
    throw new AppError('csrf_header_missing', 'Signing in and out needs the header x-sync-manager-csrf: 1');
  }
}
