import { CronExpressionParser } from 'cron-parser';
import { AppError } from '../../errors.ts';

/**
 * The next time a cron schedule fires after `after`, in UTC. Five fields (minute precision) or six
 * (with seconds first), or a preset such as @hourly. Example: nextRun('0 * * * *', new Date('2024-05-01T10:30:00Z'))
 * → 2024-05-01T11:00:00Z. Throws `invalid_schedule`.
 */
export function nextRun(schedule: string, after: Date = new Date()): Date {
  try {
    return CronExpressionParser.parse(schedule, { currentDate: after, tz: 'UTC', strict: false })
      .next()
      .toDate();
  } catch (error) {
    throw new AppError('invalid_schedule', `"${schedule}": ${(error as Error).message}`);
  }
}
